import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { UpstreamPublisher } from '../../src/bridge/upstream-publisher.js';
import { CommandRouter, type RouterCluster } from '../../src/cluster/command-router.js';
import type { LapseGate } from '../../src/cluster/lapse-gate.js';
import { OwnerCache } from '../../src/cluster/owner-cache.js';
import { OwnerDelivery } from '../../src/cluster/owner-delivery.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { RouteBus } from '../../src/cluster/route-bus.js';
import { decodeEnvelope } from '../../src/cluster/route-envelope.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createLogger } from '../../src/observability/logger.js';
import type { DownstreamMessage } from '../../src/ocpp/message.js';
import { lapsedGate } from '../harness/lapsed-gate.js';
import { FakeClock } from '../harness/fake-clock.js';

const ROUTE_TIMEOUT_MS = 5000;

/** A router whose owner is always node `b` (a live node that never answers unless told). */
function router(gate?: LapseGate, heldReplies?: Array<() => void>, heldLookups: Array<() => void> = []) {
  const clock = new FakeClock();
  const outcomes: string[] = [];
  let acks = 0;
  // Only the publisher, registry and Redis are stand-ins; router, cache, bus and envelopes are real.
  const publisher = {
    undelivered: (...args: [string, number, string, unknown, string, (() => void)?]) => {
      outcomes.push(args[4]);
      const ack = args[5];
      if (heldReplies !== undefined && ack !== undefined) heldReplies.push(ack);
      else ack?.();
    },
  } as unknown as UpstreamPublisher;
  const sent: unknown[] = [];
  const redis = {
    publish: (...args: unknown[]) => (sent.push(args), Promise.resolve(1)),
  } as unknown as RedisLink;
  const metrics = new ClusterMetrics(new Registry());
  const log = createLogger({ logLevel: 'silent', nodeId: 'a' });
  const owner: { current: { nodeId: string; epoch: string } | undefined } = {
    current: { nodeId: 'b', epoch: 'e' },
  };
  const cluster: RouterCluster = {
    registry: {
      // A held lookup answers when the test calls the function it left in `heldLookups`.
      lookup: () =>
        heldLookups.length > 0
          ? new Promise((resolve) => heldLookups.splice(0, 1, () => resolve(owner.current)))
          : Promise.resolve(owner.current),
    } as unknown as RouterCluster['registry'],
    cache: new OwnerCache(60_000, 10),
    bus: new RouteBus(redis, 'test', 'a', metrics, log),
    routeTimeoutMs: ROUTE_TIMEOUT_MS,
    metrics,
    gate,
  };
  const r = new CommandRouter({
    nodeId: 'a',
    local: { lookup: () => undefined },
    owner: new OwnerDelivery(publisher, undefined, metrics),
    publisher,
    cluster,
    log,
    clock,
  });
  return { r, clock, outcomes, sent, owner, acks: () => acks, ack: () => void (acks += 1) };
}

const reset: DownstreamMessage = { type: 2, uniqueId: 'c1', action: 'Reset', payload: { type: 'Soft' } };
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CommandRouter with a fake clock', () => {
  it("holds a charge point's line until its error reply is out and acknowledged", async () => {
    // The reply waits in the publish backlog; were the next command routed meanwhile and this
    // message then handed back unacknowledged (an adopted session given back), the node holding
    // the session would write it after the next one (a chaos run: 637 reordered).
    const replies: Array<() => void> = [];
    const t = router(undefined, replies);
    t.owner.current = undefined; // nobody owns the charge point: `offline`
    t.r.route('cp', reset, { ack: t.ack, redelivered: false });
    t.r.route('cp', { ...reset, uniqueId: 'c2' }, { ack: t.ack, redelivered: false });
    await settle();
    assert.deepEqual([t.outcomes, t.acks()], [['offline'], 0], "c2 waits behind c1's reply");
    replies.shift()?.(); // c1's reply acknowledged by the broker
    await settle();
    assert.deepEqual([t.outcomes, t.acks()], [['offline', 'offline'], 1]);
    replies.shift()?.();
    await settle();
    assert.equal(t.acks(), 2);
    assert.equal(t.r.pendingCount, 0);
  });

  it("a forward answered `offline` after its second `stale` holds the station's next one until the reply is out", async () => {
    // The station moved twice; the routing node was killed before the reply was out, the broker
    // handed c1 out again and it was written after c2 (a chaos run: 2 reordered).
    const replies: Array<() => void> = [];
    const t = router(undefined, replies);
    t.r.route('cp', reset, { ack: t.ack, redelivered: false });
    await settle();
    t.owner.current = { nodeId: 'c', epoch: 'e2' };
    t.r.outcome(1, 'stale'); // b: the session is gone; routed again, to c
    await settle();
    assert.equal(t.sent.length, 2);
    t.r.outcome(2, 'stale'); // c: gone as well; answered `offline`, the reply not out yet
    t.r.route('cp', { ...reset, uniqueId: 'c2' }, { ack: t.ack, redelivered: false });
    await settle();
    assert.deepEqual([t.outcomes, t.sent.length, t.acks()], [['offline'], 2, 0], "c2 waits for c1's reply");
    replies.shift()?.();
    await settle();
    assert.deepEqual([t.sent.length, t.acks()], [3, 1], 'c2 forwarded once the reply is out');
  });

  it('answers a forwarded command `timeout` exactly at the route timeout, once, and leaves no timer', async () => {
    const t = router();
    t.r.route('cp', reset, { ack: t.ack, redelivered: false });
    await settle(); // the registry lookup and the bus send are promises
    assert.equal(t.sent.length, 1);
    assert.equal(t.r.pendingCount, 1);
    t.clock.advance(ROUTE_TIMEOUT_MS - 1);
    assert.deepEqual(t.outcomes, []);
    t.clock.advance(1);
    assert.deepEqual(t.outcomes, ['timeout']);
    assert.equal(t.acks(), 1);
    assert.equal(t.r.pendingCount, 0);
    t.r.outcome(1, 'done'); // a late reply changes nothing
    assert.equal(t.acks(), 1);
    assert.equal(t.clock.liveTimers, 0);
  });

  it('withdraws the error reply of a command whose adopted session went back to its node (Delivery.live)', async () => {
    const t = router();
    let live = true;
    let releases = 0;
    t.r.route('cp', reset, {
      ack: t.ack,
      redelivered: true,
      release: () => (releases++, false),
      live: () => live,
    });
    t.r.route('cp', { ...reset, uniqueId: 'c2' }, { ack: t.ack, redelivered: true });
    await settle();
    live = false; // the adopted link closed for good: the broker hands the message to the node
    t.clock.advance(ROUTE_TIMEOUT_MS);
    await settle();
    t.clock.advance(ROUTE_TIMEOUT_MS);
    // The first is the node's to answer now: released, not answered; the second (no adopted link) is.
    assert.deepEqual([t.outcomes, t.acks(), releases], [['timeout'], 1, 1]);
    assert.equal(t.r.pendingCount, 0);
  });

  it("acknowledges on the owner's `done` and cancels the timeout", async () => {
    const t = router();
    t.r.route('cp', reset, { ack: t.ack, redelivered: false });
    await settle();
    t.r.outcome(1, 'done');
    assert.equal(t.acks(), 1);
    assert.deepEqual(t.outcomes, []);
    assert.equal(t.clock.liveTimers, 0);
    t.clock.advance(ROUTE_TIMEOUT_MS * 2);
    assert.deepEqual(t.outcomes, []);
  });

  it('answers everything pending `node_lost` when its owner dies', async () => {
    const t = router();
    t.r.route('cp', reset, { ack: t.ack, redelivered: false });
    t.r.route('cp', { ...reset, uniqueId: 'c2' }, { ack: t.ack, redelivered: false });
    await settle();
    t.r.nodeLost('b');
    assert.deepEqual(t.outcomes, ['node_lost', 'node_lost']);
    assert.equal(t.acks(), 2);
    assert.equal(t.clock.liveTimers, 0);
  });

  it('routes again, instead of answering `node_lost`, what is pending for a node that left quiesced', async () => {
    const t = router();
    t.r.route('cp', reset, { ack: t.ack, redelivered: false });
    t.r.route('cp', { ...reset, uniqueId: 'c2' }, { ack: t.ack, redelivered: false });
    await settle();
    t.owner.current = { nodeId: 'c', epoch: 'e2' };
    t.r.nodeLeft('b');
    // The directory's verdict follows the bye: nothing is left pending for b to answer node_lost.
    t.r.nodeLost('b');
    await settle();
    assert.deepEqual(t.outcomes, []);
    const channels = t.sent.map((args) => (args as unknown[])[0]);
    assert.deepEqual(channels, ['test:route:b', 'test:route:b', 'test:route:c', 'test:route:c']);
    t.r.outcome(3, 'done');
    t.r.outcome(4, 'done');
    assert.equal(t.acks(), 2);
    assert.equal(t.clock.liveTimers, 0);
  });

  it('releases, not acknowledges, the commands its lapse gate leaves to the broker, and the line goes on', async () => {
    // This node's liveness has lapsed: what needs Redis is parked (docs/architecture.md §5.13).
    const { gate } = lapsedGate('a');
    const t = router(gate);
    const released: string[] = [];
    for (const id of ['c1', 'c2'])
      t.r.route(
        'cp',
        { ...reset, uniqueId: id },
        { ack: t.ack, redelivered: false, release: () => (released.push(id), false) },
      );
    await settle();
    assert.deepEqual(released, []);
    assert.equal(t.r.pendingCount, 2, 'c1 parked at the head of its line, c2 behind it');
    // The MQTT link closed: the broker sends both again, and its copies must be handled afresh
    // (bridge/inbox.ts hands a message it still counts as being handled out only once).
    gate.dropAll();
    await settle();
    assert.deepEqual(released, ['c1', 'c2']);
    assert.equal(t.acks(), 0);
    assert.deepEqual(t.outcomes, []);
    assert.deepEqual(t.sent, []);
    assert.equal(t.r.pendingCount, 0);
  });

  it("routes the broker's copy of a command it gave back in that command's place, not behind a later one", async () => {
    // A chaos run's redis-empty window (25 reordered): c1's owner lookup outlived the MQTT link,
    // closed while this node was lapsed; c2 came on the new connection and waited behind c1; c1
    // was then given back to the broker, and its copy (already here, joined to it: bridge/inbox.ts)
    // was handed out as it was released. Entering at the end of the line, it left after c2.
    const { gate, back } = lapsedGate('a');
    const lookups: Array<() => void> = [() => undefined]; // the first lookup is held
    const t = router(gate, undefined, lookups);
    const released: string[] = [];
    const copyOf = (id: string) => (): boolean => {
      released.push(id);
      queueMicrotask(() =>
        t.r.route('cp', { ...reset, uniqueId: id }, { ack: t.ack, redelivered: true, linkEpoch: gate.epoch }),
      );
      return true;
    };
    t.r.route('cp', reset, { ack: t.ack, redelivered: false, release: copyOf('c1'), linkEpoch: gate.epoch });
    await settle();
    gate.dropAll(); // the link closes while lapsed
    back(); // liveness is back
    const c2 = { ...reset, uniqueId: 'c2' };
    t.r.route('cp', c2, { ack: t.ack, redelivered: false, release: copyOf('c2'), linkEpoch: gate.epoch });
    await settle();
    assert.equal(t.r.pendingCount, 2, 'c2 waits behind c1, whose lookup is held');
    lookups[0]?.(); // c1's lookup answers after the close: c1 is given back, its copy handed out
    await settle();
    await settle();
    assert.deepEqual(released, ['c1']);
    const delivered = t.sent.map((args) => {
      const decoded = decodeEnvelope((args as [string, Buffer])[1]);
      return decoded.ok && decoded.envelope.k === 'deliver' ? decoded.envelope.msg.uniqueId : '?';
    });
    assert.deepEqual(delivered, ['c1', 'c2']);
  });
});
