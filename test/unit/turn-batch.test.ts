import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { TurnBatch, type Corkable } from '../../src/io/turn-batch.js';

/** A socket that records its cork and uncork calls. */
function recorder(): Corkable & { calls: string[] } {
  const calls: string[] = [];
  return { calls, cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
}

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

test('holds the sockets once per turn and lets them go when it ends', async () => {
  const socket = recorder();
  const batch = new TurnBatch(() => [socket], 50);
  batch.hold();
  batch.hold();
  batch.hold();
  assert.deepEqual(socket.calls, ['cork']);
  await nextTurn();
  assert.deepEqual(socket.calls, ['cork', 'uncork']);
  batch.hold();
  assert.deepEqual(socket.calls, ['cork', 'uncork', 'cork']);
  await nextTurn();
});

test('a turn that lasts past maxMs lets the held writes go at the next hold, and holds on', async () => {
  const socket = recorder();
  const batch = new TurnBatch(() => [socket], 5);
  batch.hold();
  busy(7);
  batch.hold();
  assert.deepEqual(socket.calls, ['cork', 'uncork', 'cork']);
  batch.hold();
  assert.equal(socket.calls.length, 3, 'the new hold is fresh');
  await nextTurn();
  assert.deepEqual(socket.calls, ['cork', 'uncork', 'cork', 'uncork']);
});

test('nothing connected: nothing held', async () => {
  const batch = new TurnBatch(() => []);
  batch.hold();
  await nextTurn();
});
