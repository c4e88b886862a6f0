import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { ClusterConfig } from '../src/config/index.js';
import { redisKeys } from '../src/cluster/keys.js';
import { NodeDirectory } from '../src/cluster/node-directory.js';
import type { RedisLink } from '../src/cluster/redis-link.js';
import { SelfLiveness } from '../src/cluster/self-liveness.js';
import { ClusterMetrics } from '../src/observability/cluster-metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { RedisServer } from './harness/redis.js';
import { eventually, sleep } from './harness/time.js';

const PREFIX = 'lock';
const HEARTBEAT_MS = 100;
const TTL_MS = 400;

/**
 * A node coming back from a lapse while a peer holds the lock on adopting its session
 * (docs/architecture.md §5.8, §5.13), against a real redis-server. A chaos run's adopter found the
 * routing node's key missing just before the node's first beat after a failover; back at once, the
 * node wrote commands while the adopter handled the same messages from its session.
 */
describe('node directory: back from a lapse only once no peer is adopting the session', () => {
  let server: RedisServer;
  let cmd: Redis;
  before(async () => {
    server = await RedisServer.start();
    cmd = new Redis(server.url);
  });
  after(async () => {
    cmd.disconnect();
    await server.stop();
  });

  it('stays lapsed while the lock is held by a peer, then comes back and runs its back handlers once', async () => {
    const log = createLogger({ logLevel: 'silent', nodeId: 'node-a' });
    const liveness = new SelfLiveness(TTL_MS, HEARTBEAT_MS, log);
    let backs = 0;
    liveness.onBack(() => (backs += 1));
    const link = {
      cmd,
      restarted: () => Promise.resolve(false),
      setAnswering: () => undefined,
      onReconnect: () => undefined,
    } as unknown as RedisLink;
    const config = {
      prefix: PREFIX,
      heartbeatMs: HEARTBEAT_MS,
      nodeTtlMs: TTL_MS,
    } as unknown as ClusterConfig;
    const directory = new NodeDirectory({
      redis: link,
      config,
      nodeId: 'node-a',
      mqttClientId: 'ocpp-gw-node-a',
      events: { lost: () => undefined, dead: () => undefined },
      metrics: new ClusterMetrics(new Registry()),
      log,
      liveness,
    });
    await directory.start();
    try {
      assert.equal(liveness.lapsed, false);
      // A peer found the key gone and took the adoption lock; the node's next beat finds it expired.
      await cmd.set(redisKeys.adopt(PREFIX, 'node-a'), 'node-b', 'PX', 60_000);
      await cmd.del(redisKeys.node(PREFIX, 'node-a'));
      await sleep(TTL_MS + 3 * HEARTBEAT_MS);
      assert.equal(backs, 0, 'back while a peer was adopting its session');
      assert.equal(liveness.lapsed, true, 'not lapsed while a peer was adopting its session');
      // The adoption ends (compare-and-delete of the lock): back at the next beat, handlers once.
      await cmd.del(redisKeys.adopt(PREFIX, 'node-a'));
      await eventually(() => backs === 1 && !liveness.lapsed, 5000, 'back after the adoption ended');
      await sleep(3 * HEARTBEAT_MS);
      assert.equal(backs, 1);
    } finally {
      await directory.stop();
    }
  });
});
