import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { RedisLink } from '../src/cluster/redis-link.js';
import { RouteBus } from '../src/cluster/route-bus.js';
import type { RouteEnvelope } from '../src/cluster/route-envelope.js';
import { loadConfig } from '../src/config/index.js';
import { ClusterMetrics } from '../src/observability/cluster-metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { RedisServer } from './harness/redis.js';
import { eventually, sleep } from './harness/time.js';

/**
 * The route bus's self-check (docs/architecture.md §5.4) on a real redis-server: a subscription
 * Redis no longer holds while the client goes on as if it did (what every Redis Cluster node
 * restarted at once left behind: the client's re-subscription met CLUSTERDOWN and was dropped)
 * is found by the probe and made again, so envelopes reach the node again.
 */
describe('route bus: a lost subscription is found and made again', () => {
  let server: RedisServer;
  let link: RedisLink;
  let peer: RedisLink;
  before(async () => {
    server = await RedisServer.start();
    const config = loadConfig({ OCPP_GW_REDIS_URL: server.url }).cluster;
    assert.ok(config !== undefined);
    const metrics = new ClusterMetrics(new Registry());
    const log = createLogger({ logLevel: 'silent', nodeId: 'a' });
    link = await RedisLink.connect(config, 'a', log, metrics);
    peer = await RedisLink.connect(config, 'b', log, metrics);
  });
  after(async () => {
    await link.quit();
    await peer.quit();
    await server.stop();
  });

  it('check() answers true while subscribed, repairs a lost subscription, envelopes arrive again', async () => {
    const metrics = new ClusterMetrics(new Registry());
    const log = createLogger({ logLevel: 'silent', nodeId: 'a' });
    const bus = new RouteBus(link, 'ocpp-gw', 'a', metrics, log);
    const sender = new RouteBus(peer, 'ocpp-gw', 'b', metrics, log);
    const got: RouteEnvelope[] = [];
    await bus.start((envelope) => got.push(envelope));
    assert.equal(await bus.check(), true, 'subscribed: nothing to repair');
    const kick = (cid: string): RouteEnvelope => ({ v: 1, k: 'kick', from: 'b', cid });
    assert.equal(await sender.send('a', kick('cp-1')), 1);
    await eventually(() => got.length === 1, 2000, 'first envelope');
    // The subscription goes away behind the bus's back.
    const inner = (link as unknown as { sub: { client: Redis } }).sub;
    await inner.client.unsubscribe(bus.channel('a'));
    assert.equal(await sender.send('a', kick('cp-2')), 0, 'nobody listens any more');
    assert.equal(await bus.check(), false, 'the probe found the subscription gone');
    assert.equal(await sender.send('a', kick('cp-3')), 1, 'subscribed again');
    await eventually(() => got.length === 2, 2000, 'envelope after the repair');
    // The connection itself ends for good (as ioredis's sharded subscribers do after a Redis
    // Cluster restart): at most two checks bring the channel back, the second on a new connection.
    const receivers = (): Promise<number> => peer.publish(bus.channel('a'), Buffer.alloc(0));
    inner.client.disconnect();
    await eventually(async () => (await receivers()) === 0, 2000, 'connection gone');
    assert.equal(await bus.check(), false, 'the probe found the subscription gone');
    if ((await receivers()) === 0) assert.equal(await bus.check(), false, 'second miss: a new connection');
    assert.equal(await receivers(), 1, 'subscribed again');
    assert.equal(await sender.send('a', kick('cp-5')), 1);
    await eventually(() => got.length === 3, 2000, 'envelope on the new connection');
    assert.deepEqual(
      got.map((e) => (e.k === 'kick' ? e.cid : e.k)),
      ['cp-1', 'cp-3', 'cp-5'],
      'probes are not envelopes; nothing else arrived',
    );
    assert.equal(await bus.check(), true);
  });

  it('a reply reaching nobody is sent again until the receiver subscribes (after a failover)', async () => {
    const metrics = new ClusterMetrics(new Registry());
    const log = createLogger({ logLevel: 'silent', nodeId: 'c' });
    const late = new RouteBus(link, 'ocpp-gw', 'c', metrics, log);
    const sender = new RouteBus(peer, 'ocpp-gw', 'b', metrics, log);
    const reply: RouteEnvelope = { v: 1, k: 'reply', from: 'b', ref: 7, outcome: 'done' };
    // Nobody on node c's channel yet, as right after a Redis master failover (§5.4).
    sender.notifyUntil('c', reply, 10_000, 5000);
    await sleep(700);
    const got: RouteEnvelope[] = [];
    await late.start((envelope) => got.push(envelope));
    await eventually(() => got.length >= 1, 5000, 'the reply after the subscription came back');
    assert.deepEqual(got[0], reply);
    // Within `unheardMs` only: a receiver that never subscribes is not sent to forever.
    const gone: RouteEnvelope = { v: 1, k: 'reply', from: 'b', ref: 8, outcome: 'done' };
    sender.notifyUntil('d', gone, 10_000, 300);
    const watcher = new RouteBus(link, 'ocpp-gw', 'd', metrics, log);
    await sleep(1200);
    const late2: RouteEnvelope[] = [];
    await watcher.start((envelope) => late2.push(envelope));
    await sleep(1500);
    assert.deepEqual(late2, [], 'given up after unheardMs');
  });

  it('a deliver reaching nobody is sent again until the owner subscribes, within unheardMs', async () => {
    const metrics = new ClusterMetrics(new Registry());
    const log = createLogger({ logLevel: 'silent', nodeId: 'e' });
    const owner = new RouteBus(link, 'ocpp-gw', 'e', metrics, log);
    const sender = new RouteBus(peer, 'ocpp-gw', 'b', metrics, log);
    const kick: RouteEnvelope = { v: 1, k: 'kick', from: 'b', cid: 'cp-late' };
    // The owner's subscribed connection comes back 400 ms after the send starts (Redis restart).
    const got: RouteEnvelope[] = [];
    const sent = sender.sendHeard('e', kick, 2000);
    await sleep(400);
    await owner.start((envelope) => got.push(envelope));
    assert.equal(await sent, 1, 'heard once it subscribed');
    await eventually(() => got.length === 1, 2000, 'the envelope arrived');
    await sleep(300);
    assert.equal(got.length, 1, 'sent once it was heard, not again');
    // Nobody ever: 0 after about unheardMs, not at once and not forever.
    const started = Date.now();
    assert.equal(await sender.sendHeard('nobody', kick, 300), 0);
    const took = Date.now() - started;
    assert.ok(took >= 150 && took < 1500, `gave up after ${took} ms`);
    assert.equal(await sender.sendHeard('nobody', kick, 0), 0, 'unheardMs 0: one attempt');
  });
});
