import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocatedBetween,
  GROWN_BYTES,
  HeapSettle,
  inspectorCollect,
  QUIET_BYTES_PER_S,
  readHeap,
  type HeapReading,
} from '../../src/gateway/heap-settle.js';
import type { Logger } from '../../src/observability/logger.js';

const MIB = 1024 * 1024;

/** A heap the test moves by hand, and a collection that leaves `leaveCommitted` committed. */
function rig(quietS: number, leaveCommitted = 20 * MIB) {
  const heap = { committed: 20 * MIB, youngUsed: 0, youngCapacity: 16 * MIB };
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const log = {
    info: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
    warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
  } as unknown as Logger;
  let collections = 0;
  const collect = (): Promise<void> => {
    collections += 1;
    heap.committed = leaveCommitted;
    heap.youngUsed = 0;
    return Promise.resolve();
  };
  const settle = new HeapSettle(quietS, log, (): HeapReading => ({ ...heap }), collect);
  return { heap, lines, settle, collections: () => collections };
}

/** The first quiet spell after start-up: one collection, which sets where growth is counted from. */
async function started(quietS: number, leaveCommitted?: number) {
  const r = rig(quietS, leaveCommitted);
  for (let i = 0; i <= quietS; i++) await r.settle.poll();
  assert.equal(r.collections(), 1, 'start-up collection');
  const before = r.collections();
  return { ...r, collections: () => r.collections() - before };
}

describe('HeapSettle', () => {
  it('collects once a grown heap has been quiet for quietS polls, then not until it grows again', async () => {
    const { heap, lines, settle, collections } = await started(3);
    heap.committed = 60 * MIB; // a connection burst
    heap.youngUsed = 10 * MIB;
    await settle.poll(); // first reading: no rate yet
    for (let i = 0; i < 2; i++) {
      heap.youngUsed += 1000;
      await settle.poll();
    }
    assert.equal(collections(), 0, 'two quiet polls of three');
    heap.youngUsed += 1000;
    await settle.poll();
    assert.equal(collections(), 1);
    assert.deepEqual(lines.at(-1), {
      fields: { committedBefore: 60 * MIB, committedAfter: 20 * MIB, ms: lines.at(-1)?.fields.ms },
      message: 'heap settled',
    });
    for (let i = 0; i < 10; i++) await settle.poll();
    assert.equal(collections(), 1, 'not grown since: nothing to give back');
    heap.committed = 20 * MIB + GROWN_BYTES; // the next burst
    for (let i = 0; i < 4; i++) await settle.poll();
    assert.equal(collections(), 2);
  });

  it('leaves a busy node alone: a scavenge between polls, or 1 MB/s allocated, breaks the quiet', async () => {
    const { heap, settle, collections } = await started(2);
    heap.committed = 60 * MIB;
    heap.youngUsed = 8 * MIB;
    await settle.poll();
    for (let i = 0; i < 20; i++) {
      // Alternately: a scavenge emptied a young generation 8 MiB short of full, or 1 MB came in.
      if (i % 2 === 0) heap.youngUsed = 1000;
      else heap.youngUsed += QUIET_BYTES_PER_S;
      await settle.poll();
    }
    assert.equal(collections(), 0);
  });

  it('does not collect a heap that has not grown, nor again one V8 kept committed', async () => {
    const small = await started(1);
    small.heap.committed = 20 * MIB + GROWN_BYTES - 1;
    for (let i = 0; i < 5; i++) await small.settle.poll();
    assert.equal(small.collections(), 0);

    const kept = rig(1, 60 * MIB); // the collection frees nothing
    kept.heap.committed = 60 * MIB;
    for (let i = 0; i < 10; i++) await kept.settle.poll();
    assert.equal(kept.collections(), 1, 'tried once at start-up; 60 MiB is its floor since');
  });

  it('counts what filled the young generation across a scavenge', () => {
    const last = { committed: 0, youngUsed: 3 * MIB, youngCapacity: 4 * MIB };
    assert.equal(allocatedBetween(last, { ...last, youngUsed: 3 * MIB + 10 }), 10);
    assert.equal(allocatedBetween(last, { ...last, youngUsed: 100 }), 1 * MIB + 100);
  });

  it('quietS 0 never starts a timer', () => {
    const { settle } = rig(0);
    settle.start();
    settle.stop();
  });

  it("really gives back this process's heap grown by garbage (V8, node:inspector)", async () => {
    let kept: object[] = [];
    for (let round = 0; round < 3; round++) {
      kept = [];
      for (let i = 0; i < 300_000; i++) kept.push({ i, s: `x${i}`, a: [i] });
    }
    kept = [];
    const grown = readHeap().committed;
    await inspectorCollect();
    const after = readHeap().committed;
    assert.ok(grown - after >= GROWN_BYTES, `committed ${grown} -> ${after} bytes`);
    assert.equal(kept.length, 0);
  });
});
