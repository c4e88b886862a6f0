import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unheardWaitMs } from '../../src/cluster/absent-owner.js';
import type { RouterCluster } from '../../src/cluster/command-router.js';
import { metric, rig, settle } from '../harness/router-rig.js';

/**
 * The routing node when a registry lookup finds no owner (cluster/absent-owner.ts,
 * docs/architecture.md §5.5): right after Redis trouble that proves nothing, so the lookup is
 * made again while the charge point's later commands wait behind it; otherwise, or once the wait
 * is over, the command is answered `offline` as before. `left` as in move-fence.test.ts.
 */
/**
 * A router whose owner lookups find no entry (it was on a master that came back without it), on a
 * node that is not settled yet unless `settled`; `settle()` ends the unsettled time.
 */
function entryLost({ settled = false, maxWaitMs = 6000 } = {}) {
  let isSettled = settled;
  const t = rig({ absentOwner: { settled: () => isSettled, maxWaitMs } });
  t.moveTo(undefined);
  return { ...t, settle: () => void (isSettled = true) };
}

/** Lets the fake clock run `ms` in steps, with the promise turns in between. */
async function run(t: { clock: { advance(ms: number): void } }, ms: number, step = 50): Promise<void> {
  for (let at = 0; at < ms; at += step) {
    t.clock.advance(step);
    await settle();
  }
}

describe('an owner lookup that finds nobody right after Redis trouble', () => {
  it('asks again, and the charge point’s commands go in order once its owner has written its entry back', async () => {
    const t = entryLost();
    t.send('cp', 'c1');
    t.send('cp', 'c2');
    await run(t, 300);
    assert.deepEqual(t.left, [], 'c1 waits for its owner, c2 behind it');
    t.moveTo(t.owner); // the owner's next beat wrote it back
    await run(t, 1000);
    assert.deepEqual(t.left, ['b:c1', 'b:c2']);
    assert.equal(await metric(t.registry, 'ocpp_gateway_partition_events_total', 'owner_unproven'), 1);
  });

  it('answers offline once the node is settled again (a node TTL after the trouble)', async () => {
    const t = entryLost();
    t.send('cp', 'c1');
    await run(t, 300);
    assert.deepEqual(t.left, []);
    t.settle();
    await run(t, 1000);
    assert.deepEqual(t.left, ['offline:c1']);
  });

  it('answers offline when the wait is over, whatever Redis still does', async () => {
    const t = entryLost({ maxWaitMs: 2000 });
    t.send('cp', 'c1');
    await run(t, 1500);
    assert.deepEqual(t.left, []);
    await run(t, 1000);
    assert.deepEqual(t.left, ['offline:c1']);
  });

  it('answers offline at once when nothing went wrong with Redis lately', async () => {
    const t = entryLost({ settled: true });
    t.send('cp', 'c1');
    await settle();
    await settle();
    assert.deepEqual(t.left, ['offline:c1']);
    assert.equal(await metric(t.registry, 'ocpp_gateway_partition_events_total', 'owner_unproven'), 0);
  });

  it('writes here at once when the charge point connects to this node meanwhile', async () => {
    const t = entryLost();
    t.send('cp', 'c1');
    await run(t, 200);
    t.connectHere('cp');
    await run(t, 1000);
    assert.deepEqual(t.left, ['local:c1']);
  });
});

describe('an owner that the registry names but nobody hears on its route channel (docs §5.4)', () => {
  const cluster = (settled: boolean, routeTimeoutMs = 70_000): RouterCluster =>
    ({
      routeTimeoutMs,
      absentOwner: { settled: () => settled, maxWaitMs: 6000 },
    }) as unknown as RouterCluster;

  it('is sent to again for 2 s when Redis is settled, for a node TTL right after Redis trouble', () => {
    assert.equal(unheardWaitMs(cluster(true)), 2000);
    // A failover took the owner's subscription along: it is back once it subscribes again.
    assert.equal(unheardWaitMs(cluster(false)), 6000);
    // Never past a quarter of the route timeout.
    assert.equal(unheardWaitMs(cluster(false, 8000)), 2000);
    assert.equal(unheardWaitMs({ routeTimeoutMs: 70_000 } as unknown as RouterCluster), 2000);
  });
});
