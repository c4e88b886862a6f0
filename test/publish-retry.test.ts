import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublishFlow, type QueuedPublish } from '../src/bridge/publish-flow.js';
import { retryDelayMs, type RetryPolicy } from '../src/bridge/transient-refusal.js';

/** A policy on a hand-driven clock: `advance` runs the back-offs that are due. */
function manualPolicy(): RetryPolicy & { advance(ms: number): void } {
  let now = 0;
  let timers: Array<{ at: number; run: () => void }> = [];
  return {
    maxAttempts: 3,
    maxMs: 1000,
    baseMs: 100,
    now: () => now,
    schedule: (delayMs, run) => timers.push({ at: now + delayMs, run }),
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.run();
    },
  };
}

function harness(policy: RetryPolicy) {
  const sent: Array<{ topic: string; settle: (e?: Error) => void }> = [];
  const done: string[] = [];
  const flow = new PublishFlow(
    100,
    {
      send: (entry, settle) => sent.push({ topic: entry.topic, settle }),
      connected: () => true,
      backlogChanged: () => undefined,
      overflowed: () => undefined,
    },
    policy,
  );
  const entry = (topic: string): QueuedPublish => ({
    topic,
    payload: '',
    qos: 1,
    properties: undefined,
    done: (e) => done.push(`${topic}:${e === undefined ? 'ok' : e.message}`),
  });
  return { flow, sent, done, entry };
}

/** What mqtt.js calls back with for a refusing PUBACK/PUBREC (its ErrorWithReasonCode). */
const refusal = (message: string, code: number): Error => Object.assign(new Error(message), { code });
const quota = (): Error => refusal('Publish error: Quota exceeded', 0x97);

describe('transient refusals (MQTT 5 §3.4.2.1: 0x97 Quota exceeded, 0x89 Server busy)', () => {
  it('tells transient reason codes from final ones', () => {
    const policy = manualPolicy();
    assert.equal(retryDelayMs(policy, quota(), 0, 0), 100);
    assert.equal(retryDelayMs(policy, refusal('busy', 0x89), 1, 100), 200);
    for (const code of [0x80, 0x87, 0x90, 0x91, 0x99])
      assert.equal(retryDelayMs(policy, refusal('final', code), 0, 0), undefined, `0x${code.toString(16)}`);
    assert.equal(retryDelayMs(policy, new Error('Connection closed'), 0, 0), undefined);
    assert.equal(retryDelayMs(policy, quota(), 3, 0), undefined, 'attempts bounded');
    assert.equal(retryDelayMs(policy, quota(), 2, 700), undefined, 'time bounded');
  });

  it('sends a refused publish again after a back-off, ahead of later ones, and holds those meanwhile', () => {
    const policy = manualPolicy();
    const { flow, sent, done, entry } = harness(policy);
    flow.connected(2, 0);
    for (const t of ['a', 'b', 'c']) flow.publish(entry(t));
    assert.deepEqual(
      sent.map((s) => s.topic),
      ['a', 'b'],
    );
    sent[0]?.settle(quota());
    assert.deepEqual(done, [], 'the caller does not learn of the refusal');
    assert.equal(flow.inFlight, 2, 'the waiting publish keeps the link busy');
    assert.deepEqual(
      sent.map((s) => s.topic),
      ['a', 'b'],
      'c waits behind the refused a',
    );
    policy.advance(99);
    assert.equal(sent.length, 2);
    policy.advance(1);
    assert.deepEqual(
      sent.map((s) => s.topic),
      ['a', 'b', 'a'],
    );
    sent[1]?.settle();
    assert.deepEqual(
      sent.map((s) => s.topic),
      ['a', 'b', 'a', 'c'],
    );
    sent[2]?.settle();
    sent[3]?.settle();
    assert.deepEqual(done, ['b:ok', 'a:ok', 'c:ok']);
  });

  it('reports the refusal once the attempts are used up, and a final one at once', () => {
    const policy = manualPolicy();
    const { flow, sent, done, entry } = harness(policy);
    flow.connected(10, 0);
    flow.publish(entry('a'));
    for (let i = 0; i < 3; i++) {
      sent[i]?.settle(quota());
      policy.advance(100 * 2 ** i);
    }
    assert.equal(sent.length, 4, 'first send and 3 retries');
    sent[3]?.settle(quota());
    assert.deepEqual(done, ['a:Publish error: Quota exceeded']);
    flow.publish(entry('b'));
    sent[4]?.settle(refusal('Publish error: Topic Name invalid', 0x90));
    assert.deepEqual(done, ['a:Publish error: Quota exceeded', 'b:Publish error: Topic Name invalid']);
  });

  it('fails a publish waiting for its retry at shutdown, and only once', () => {
    const policy = manualPolicy();
    const { flow, sent, done, entry } = harness(policy);
    flow.connected(10, 0);
    flow.publish(entry('a'));
    sent[0]?.settle(quota());
    flow.failAll(new Error('stopped'));
    policy.advance(1000);
    assert.deepEqual(done, ['a:stopped']);
    assert.equal(sent.length, 1);
    assert.equal(flow.inFlight, 0);
  });
});
