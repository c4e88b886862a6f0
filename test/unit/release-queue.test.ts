import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { ReleaseQueue } from '../../src/cluster/release-queue.js';
import { createLogger } from '../../src/observability/logger.js';

const log = createLogger({ logLevel: 'silent', nodeId: 'release-queue' });

/** A `send` whose answers the test gives, one slice at a time. */
function controlledSend(): {
  send: (key: string, owner: string) => Promise<unknown>;
  sent: string[];
  answer: (error?: Error) => void;
} {
  const sent: string[] = [];
  let waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    sent,
    send: (key, owner) => {
      sent.push(`${key}=${owner}`);
      return new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    answer: (error) => {
      const now = waiting;
      waiting = [];
      for (const w of now) {
        if (error === undefined) w.resolve();
        else w.reject(error);
      }
    },
  };
}

test('a burst of releases leaves in slices, each once the one before is answered', async () => {
  const s = controlledSend();
  const queue = new ReleaseQueue(s.send, log, 4);
  for (let i = 0; i < 10; i++) queue.push(`k${i}`, `n|${i}`);
  // Nothing is sent inside the close handler's turn.
  assert.deepEqual(s.sent, []);
  assert.equal(queue.pending, 10);
  await turn();
  assert.deepEqual(s.sent, ['k0=n|0', 'k1=n|1', 'k2=n|2', 'k3=n|3']);
  // Unanswered: the next slice waits however many turns pass.
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(s.sent.length, 4);
  assert.equal(queue.pending, 10);
  s.answer();
  for (let i = 0; i < 3; i++) await turn();
  assert.equal(s.sent.length, 8);
  s.answer();
  for (let i = 0; i < 3; i++) await turn();
  assert.deepEqual(s.sent.slice(8), ['k8=n|8', 'k9=n|9']);
  assert.equal(queue.pending, 2);
  s.answer();
  for (let i = 0; i < 3; i++) await turn();
  assert.equal(queue.pending, 0);
  // Idle again: a later release starts a new run.
  queue.push('k10', 'n|10');
  await turn();
  assert.equal(s.sent.at(-1), 'k10=n|10');
});

test('timers run between slices: a heartbeat is not held until the whole burst is sent', async () => {
  const sentAt: number[] = [];
  let beats = 0;
  const queue = new ReleaseQueue(
    () => {
      sentAt.push(beats);
      // Each release costs 0.2 ms of CPU (a slice 2 ms): a 1 ms timer comes due during every slice.
      const until = performance.now() + 0.2;
      while (performance.now() < until);
      return Promise.resolve();
    },
    log,
    10,
  );
  for (let i = 0; i < 100; i++) queue.push(`k${i}`, 'n|e');
  const timer = setInterval(() => (beats += 1), 0);
  while (queue.pending > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  clearInterval(timer);
  assert.equal(sentAt.length, 100);
  // The last slice went out after timers had run several times since the first; with every
  // release sent in one turn all would show the same count.
  const between = (sentAt.at(-1) ?? 0) - (sentAt[0] ?? 0);
  assert.ok(between >= 5, `timer runs between the first and the last slice: ${between}`);
});

test('a failed slice (Redis away, or a send that throws) does not stop the ones after it', async () => {
  const s = controlledSend();
  let throwNext = true;
  const queue = new ReleaseQueue(
    (key, owner) => {
      if (throwNext) {
        throwNext = false;
        throw new Error('not connected');
      }
      return s.send(key, owner);
    },
    log,
    2,
  );
  for (let i = 0; i < 5; i++) queue.push(`k${i}`, 'n|e');
  await turn();
  assert.deepEqual(s.sent, ['k1=n|e']);
  s.answer(new Error('Connection is closed.'));
  for (let i = 0; i < 3; i++) await turn();
  assert.deepEqual(s.sent, ['k1=n|e', 'k2=n|e', 'k3=n|e']);
  s.answer();
  for (let i = 0; i < 3; i++) await turn();
  assert.deepEqual(s.sent.at(-1), 'k4=n|e');
  s.answer();
  for (let i = 0; i < 3; i++) await turn();
  assert.equal(queue.pending, 0);
});
