import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallQueue, type PendingCall, type WriteFailure } from '../../src/edge/session/call-queue.js';
import { FakeClock } from '../harness/fake-clock.js';

/** A queue whose hooks record what happened; `refuse` makes the next writes fail. */
function queue(maxLength = 2, timeoutMs = 1000) {
  const clock = new FakeClock();
  const written: string[] = [];
  const notWritten: Array<[string, WriteFailure]> = [];
  const timedOut: string[] = [];
  let depth = 0;
  let refuse: WriteFailure | undefined;
  const q = new CallQueue(
    maxLength,
    timeoutMs,
    {
      write: (call: PendingCall) => {
        if (refuse !== undefined) return refuse;
        written.push(call.uniqueId);
        return undefined;
      },
      notWritten: (call, failure) => notWritten.push([call.uniqueId, failure]),
      timedOut: (call) => timedOut.push(call.uniqueId),
      depthChanged: (delta) => (depth += delta),
    },
    clock,
  );
  return {
    q,
    clock,
    written,
    notWritten,
    timedOut,
    depth: () => depth,
    refuse: (failure: WriteFailure | undefined) => (refuse = failure),
  };
}

describe('CallQueue (OCPP-J 1.6 §4.1.1: one CALL outstanding) with a fake clock', () => {
  it('writes one CALL at a time; the answer starts the next; nothing is left running', () => {
    const t = queue();
    assert.equal(t.q.enqueue('a', 'Reset', {}, undefined), 'sent');
    assert.equal(t.q.enqueue('b', 'Reset', {}, undefined), 'queued');
    assert.deepEqual(t.written, ['a']);
    assert.equal(t.depth(), 1);
    t.clock.advance(400);
    assert.equal(t.q.settle('b'), undefined, 'not the outstanding one');
    assert.equal(t.q.settle('a')?.sentAt, 0);
    assert.deepEqual(t.written, ['a', 'b']);
    assert.equal(t.q.outstanding?.sentAt, 400);
    assert.equal(t.q.settle('b')?.uniqueId, 'b');
    assert.equal(t.depth(), 0);
    assert.equal(t.clock.liveTimers, 0);
  });

  it('times the outstanding CALL out after exactly timeoutMs and moves on', () => {
    const t = queue();
    t.q.enqueue('a', 'Reset', {}, undefined);
    t.q.enqueue('b', 'Reset', {}, undefined);
    t.clock.advance(999);
    assert.deepEqual(t.timedOut, []);
    t.clock.advance(1);
    assert.deepEqual(t.timedOut, ['a']);
    assert.deepEqual(t.written, ['a', 'b']);
    t.clock.advance(1000);
    assert.deepEqual(t.timedOut, ['a', 'b']);
    assert.equal(t.clock.liveTimers, 0);
  });

  it('refuses past maxLength waiting, and clear() hands back everything without leaving a timer', () => {
    const t = queue(1);
    t.q.enqueue('a', 'Reset', {}, undefined);
    assert.equal(t.q.enqueue('b', 'Reset', {}, undefined), 'queued');
    assert.equal(t.q.enqueue('c', 'Reset', {}, undefined), 'full');
    const { outstanding, waiting } = t.q.clear();
    assert.equal(outstanding?.uniqueId, 'a');
    assert.deepEqual(
      waiting.map((c) => c.uniqueId),
      ['b'],
    );
    assert.equal(t.depth(), 0);
    assert.equal(t.clock.liveTimers, 0);
  });

  it('a CALL that cannot be written is handed to notWritten once, never outstanding, and the next one goes', () => {
    const t = queue();
    t.refuse('unwritable');
    assert.equal(t.q.enqueue('a', 'Reset', {}, undefined), 'not_written');
    assert.equal(t.q.outstanding, undefined);
    t.refuse(undefined);
    t.q.enqueue('b', 'Reset', {}, undefined);
    t.q.enqueue('c', 'Reset', {}, undefined);
    t.refuse('too_large');
    t.q.settle('b');
    assert.deepEqual(t.notWritten, [
      ['a', 'unwritable'],
      ['c', 'too_large'],
    ]);
    assert.equal(t.q.outstanding, undefined);
    assert.equal(t.clock.liveTimers, 0);
  });
});
