import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublishFlow, type QueuedPublish } from '../src/bridge/publish-flow.js';

function harness(maxBacklog: number): {
  flow: PublishFlow;
  sent: Array<{ entry: QueuedPublish; settle: (e?: Error) => void }>;
  done: string[];
  state: { connected: boolean; overflows: number; backlog: number };
  entry: (topic: string) => QueuedPublish;
} {
  const sent: Array<{ entry: QueuedPublish; settle: (e?: Error) => void }> = [];
  const done: string[] = [];
  const state = { connected: true, overflows: 0, backlog: 0 };
  const flow = new PublishFlow(maxBacklog, {
    send: (entry, settle) => sent.push({ entry, settle }),
    connected: () => state.connected,
    backlogChanged: (n) => (state.backlog = n),
    overflowed: () => (state.overflows += 1),
  });
  const entry = (topic: string): QueuedPublish => ({
    topic,
    payload: '',
    qos: 2,
    properties: undefined,
    done: (e) => done.push(`${topic}:${e === undefined ? 'ok' : 'error'}`),
  });
  return { flow, sent, done, state, entry };
}

describe('PublishFlow (MQTT 5 Receive Maximum, [MQTT-3.3.4-7])', () => {
  it('never has more in flight than the broker allows, and keeps order', () => {
    const { flow, sent, done, state, entry } = harness(100);
    flow.connected(2, 0);
    for (const t of ['a', 'b', 'c', 'd']) flow.publish(entry(t));
    assert.deepEqual(
      sent.map((s) => s.entry.topic),
      ['a', 'b'],
    );
    assert.equal(state.backlog, 2);
    sent[1]?.settle();
    assert.deepEqual(
      sent.map((s) => s.entry.topic),
      ['a', 'b', 'c'],
    );
    sent[0]?.settle(new Error('refused'));
    sent[2]?.settle();
    assert.deepEqual(
      sent.map((s) => s.entry.topic),
      ['a', 'b', 'c', 'd'],
    );
    assert.deepEqual(done, ['b:ok', 'a:error', 'c:ok']);
    assert.equal(state.backlog, 0);
  });

  it('holds publishes while disconnected and sends them on reconnect', () => {
    const { flow, sent, state, entry } = harness(100);
    flow.connected(10, 0);
    state.connected = false;
    flow.publish(entry('x'));
    flow.publish(entry('y'));
    assert.equal(sent.length, 0);
    state.connected = true;
    flow.connected(10, 0);
    assert.deepEqual(
      sent.map((s) => s.entry.topic),
      ['x', 'y'],
    );
  });

  it('fails at once beyond the backlog bound, and counts it', () => {
    const { flow, done, state, entry } = harness(1);
    state.connected = false;
    flow.publish(entry('kept'));
    flow.publish(entry('refused'));
    assert.deepEqual(done, ['refused:error']);
    assert.equal(state.overflows, 1);
    flow.failAll(new Error('stop'));
    assert.deepEqual(done, ['refused:error', 'kept:error']);
  });

  it('ignores a second settle of the same publish', () => {
    const { flow, sent, done, entry } = harness(10);
    flow.connected(1, 0);
    flow.publish(entry('a'));
    flow.publish(entry('b'));
    sent[0]?.settle();
    sent[0]?.settle();
    assert.equal(sent.length, 2);
    assert.deepEqual(done, ['a:ok']);
  });
});
