import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { MARKS_UNAVAILABLE, SentMarks } from '../../src/cluster/sent-marks.js';
import { LocalWrites } from '../../src/cluster/local-writes.js';

/** Written-marks of writer `node-a|run1` over the command connection `cmd`. */
function marksOn(cmd: unknown): SentMarks {
  const link = { cmd } as unknown as RedisLink;
  return new SentMarks(link, 'up', 'node-a|run1', 300_000, 30_000, pino({ level: 'silent' }));
}

/** Marks over a Redis that refuses every command at once (nothing listens on port 1). */
function refusedMarks(): { marks: SentMarks; redis: Redis } {
  const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  return { marks: marksOn(redis), redis };
}

describe('CALLs this node run wrote, kept beside their written-marks (docs/architecture.md §5.7, §5.13)', () => {
  it('are remembered for the done TTL, then forgotten', () => {
    let now = 1_000;
    const writes = new LocalWrites(30_000, 10, () => now);
    writes.add('cp1\nu1');
    now += 30_000;
    assert.equal(writes.has('cp1\nu1'), true);
    now += 1;
    assert.equal(writes.has('cp1\nu1'), false);
    assert.equal(writes.size, 0, 'an expired entry is dropped when read');
  });

  it('hold at most `max`, the oldest forgotten first; expired ones go as new ones come', () => {
    let now = 0;
    const writes = new LocalWrites(1_000, 3, () => now);
    for (const id of ['a', 'b', 'c', 'd']) writes.add(id);
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((id) => writes.has(id)),
      [false, true, true, true],
    );
    now = 2_000;
    writes.add('e');
    assert.equal(writes.size, 1);
  });

  it("a redelivery of one written while Redis refused the take finds this run's writer, without Redis", async () => {
    const { marks, redis } = refusedMarks();
    try {
      assert.equal(await marks.take('CP1', 'u1', false), MARKS_UNAVAILABLE);
      marks.writingUnprotected('CP1', 'u1');
      // The broker's copy (DUP) after the routing node's session was adopted: not written again.
      assert.equal(await marks.take('CP1', 'u1', true), 'node-a|run1');
      // A fresh message reusing the id is its own command, and another charge point's is too.
      assert.equal(await marks.take('CP1', 'u1', false), MARKS_UNAVAILABLE);
      assert.equal(await marks.take('CP2', 'u1', true), MARKS_UNAVAILABLE);
    } finally {
      redis.disconnect();
    }
  });

  it("a redelivery of one written with a mark that Redis lost since finds this run's writer", async () => {
    const { marks, redis } = refusedMarks();
    try {
      // Written with its mark taken, and answered; then Redis restarted empty (here: refuses all).
      marks.finished('CP1', 'u2');
      // The broker's copy after the routing node's session was adopted (a chaos run wrote 108 twice).
      assert.equal(await marks.take('CP1', 'u2', true), 'node-a|run1');
      assert.equal(await marks.take('CP1', 'u2', false), MARKS_UNAVAILABLE);
    } finally {
      redis.disconnect();
    }
  });
  it('a redelivery finding the mark this run took for a CALL it left unwritten is written, once', async () => {
    // A command connection whose mark script answers "held by node-a|run1" (this run).
    const cmd = { ocppClaim: () => undefined, ocppMark: () => Promise.resolve('node-a|run1') };
    const marks = marksOn(cmd);
    assert.equal(await marks.take('CP1', 'u3', true), 'node-a|run1', 'not abandoned: a duplicate');
    marks.abandon('CP1', 'u3');
    assert.equal(await marks.take('CP1', 'u3', false), 'node-a|run1', 'a fresh take is no copy');
    assert.equal(await marks.take('CP1', 'u3', true), undefined, 'the copy is written');
    assert.equal(await marks.take('CP1', 'u3', true), 'node-a|run1', 'a second copy is a duplicate');
  });

  it("a take that failed may have run: the copy that then finds this run's mark is written, once", async () => {
    // Redis ran the first take and its reply was lost (a deadline); every later take finds the mark.
    let calls = 0;
    const ocppMark = (): Promise<string> =>
      ++calls === 1 ? Promise.reject(new Error('Command timed out')) : Promise.resolve('node-a|run1');
    const marks = marksOn({ ocppClaim: () => undefined, ocppMark });
    assert.equal(await marks.take('CP1', 'u4', true), MARKS_UNAVAILABLE);
    // Parked, then left to the broker unwritten: the broker's copy comes back to this node.
    assert.equal(await marks.take('CP1', 'u4', true), undefined, 'not written by this run: written now');
    assert.equal(await marks.take('CP1', 'u4', true), 'node-a|run1', 'a second copy is a duplicate');
  });
});
