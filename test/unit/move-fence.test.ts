import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Owner } from '../../src/cluster/registry.js';
import { metric, rig, settle } from '../harness/router-rig.js';

/**
 * The routing node when a charge point moves between two of its commands (move-fence.ts,
 * docs/architecture.md §5.14). `left` lists what left the node in order: `b:<id>` published to
 * node b, `local:<id>` written here, `<reason>:<id>` answered here. Route-bus references count
 * from 1 in the order forwards were filed.
 */
/**
 * c1 is forwarded to b and pending there; then the station moves to `to` and this node learns it
 * (another command's lookup, a `stale`): the registry names `to` and the cached guess is gone.
 */
async function c1PendingThenMoved(to: Owner = { nodeId: 'c', epoch: 'e2' }) {
  const t = rig();
  t.send('cp', 'c1');
  await settle();
  t.moveTo(to);
  t.cache.forget('cp');
  return t;
}

/**
 * c1 and c2 are forwarded to b, which refuses both (its liveness had lapsed); its two `stale`
 * publishes are retried on their own timers while Redis refuses them, and c2's arrives first.
 */
async function c2StaleFirst() {
  const t = rig();
  t.send('cp', 'c1');
  t.send('cp', 'c2');
  await settle();
  assert.deepEqual(t.left, ['b:c1', 'b:c2']);
  t.r.outcome(2, 'stale');
  await settle();
  return t;
}

describe('the routing node when a charge point moves', () => {
  it('holds the next command for the new owner until the old owner answers; a `stale` one goes first', async () => {
    const t = await c1PendingThenMoved();
    assert.deepEqual(t.left, ['b:c1']);
    t.send('cp', 'c2');
    t.send('cp', 'c3');
    await settle();
    assert.deepEqual(t.left, ['b:c1'], 'c2 and c3 wait while c1 is pending on b');
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_fenced_total'), 1);
    t.r.outcome(1, 'stale'); // b no longer had the session: c1 was never written
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'c:c1', 'c:c2', 'c:c3']);
  });

  it('treats a new session on the same node as a move (another epoch)', async () => {
    const t = await c1PendingThenMoved({ nodeId: 'b', epoch: 'e2' });
    t.send('cp', 'c2');
    await settle();
    assert.deepEqual(t.left, ['b:c1']);
    t.r.outcome(1, 'stale');
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c1', 'b:c2']);
  });

  it('writes a command here only once the forward to the old owner has its outcome', async () => {
    const t = rig();
    t.send('cp', 'c1');
    await settle();
    t.connectHere('cp');
    t.send('cp', 'c2');
    await settle();
    assert.deepEqual(t.left, ['b:c1']);
    t.r.outcome(1, 'done'); // written by b (and answered) before the station moved
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'local:c2']);
  });

  it('opens the fence at the old forward’s route deadline', async () => {
    const t = await c1PendingThenMoved();
    t.send('cp', 'c2');
    await settle();
    t.clock.advance(5000); // the rig's route timeout
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'timeout:c1', 'c:c2']);
  });

  it('a command answered `stale` during the next one’s lookup goes first', async () => {
    const t = await c1PendingThenMoved();
    t.hold(true);
    t.send('cp', 'c2'); // its lookup waits on Redis
    await settle();
    t.r.outcome(1, 'stale'); // c1 comes back while c2 is in progress
    await settle();
    t.held[0]?.answer({ nodeId: 'c', epoch: 'e2' }); // c2's lookup: c2 gives way
    await settle();
    assert.deepEqual(t.left, ['b:c1']);
    t.held[1]?.answer({ nodeId: 'c', epoch: 'e2' }); // c1's lookup (routed again: the registry)
    await settle();
    t.hold(false);
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'c:c1', 'c:c2']);
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_held'), 0);
  });

  it('a command answered `stale` before an earlier one of its charge point waits for that one (same owner)', async () => {
    const t = await c2StaleFirst();
    assert.deepEqual(t.left, ['b:c1', 'b:c2'], 'c2 waits: c1 is still pending and may come back');
    t.r.outcome(1, 'stale');
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c2', 'b:c1', 'b:c2']);
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_held'), 0);
  });

  it('a routed-again command goes once the earlier forward is written after all', async () => {
    const t = await c2StaleFirst();
    t.r.outcome(1, 'done');
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c2', 'b:c2']);
  });

  it('a cached owner that reached nobody does not use up the one routing again a `stale` earns', async () => {
    let unheard = false;
    const t = rig({ receivers: () => (unheard ? ((unheard = false), 0) : 1) });
    t.send('cp', 'c0'); // the owner is cached from here
    await settle();
    t.r.outcome(1, 'done');
    unheard = true;
    t.send('cp', 'c1'); // the cached guess reaches nobody once: the registry is asked (ref 2, then 3)
    await settle();
    assert.deepEqual(t.left, ['b:c0', 'b:c1', 'b:c1']);
    t.r.outcome(3, 'stale'); // the owner refused it: routed again, not answered `offline`
    await settle();
    assert.deepEqual(t.left, ['b:c0', 'b:c1', 'b:c1', 'b:c1']);
    t.r.outcome(4, 'stale'); // a second `stale`: answered
    await settle();
    assert.deepEqual(t.left, ['b:c0', 'b:c1', 'b:c1', 'b:c1', 'offline:c1']);
  });

  it('does not hold commands to the same owner: they still go one after the other without waiting', async () => {
    const t = rig();
    for (const id of ['c1', 'c2', 'c3']) t.send('cp', id);
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c2', 'b:c3']);
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_fenced_total'), 0);
  });

  it('routes what a quiesced owner left in arrival order, behind nothing that came later', async () => {
    const t = rig();
    t.send('cp', 'c1');
    t.send('cp', 'c2');
    await settle();
    t.moveTo({ nodeId: 'c', epoch: 'e2' });
    t.cache.forget('cp');
    t.send('cp', 'c3'); // held: c1 and c2 pending on b
    await settle();
    t.r.nodeLeft('b');
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c2', 'c:c1', 'c:c2', 'c:c3']);
  });
});
