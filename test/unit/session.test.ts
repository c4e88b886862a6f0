import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { MqttLink } from '../../src/bridge/mqtt-link.js';
import { TopicMap } from '../../src/bridge/topic-map.js';
import { UpstreamPublisher } from '../../src/bridge/upstream-publisher.js';
import { loadConfig } from '../../src/config/index.js';
import type { CpSocket } from '../../src/edge/session/cp-socket.js';
import { Session } from '../../src/edge/session/session.js';
import { SessionTable } from '../../src/edge/session/session-table.js';
import { Metrics } from '../../src/observability/metrics.js';
import { SchemaPolicy } from '../../src/ocpp/schema-policy.js';
import { V16 } from '../../src/ocpp/versions/v16.js';
import { FakeClock } from '../harness/fake-clock.js';

interface Published {
  readonly topic: string;
  readonly json: { UniqueId?: string; ErrorDetails?: { reason?: string } };
}

/** A uWS socket as far as a session sees it: `end()` runs the close handler at once, as uWS does. */
class FakeSocket implements CpSocket {
  full = false;
  readonly sent: string[] = [];
  session: Session | undefined;

  send(message: string): number {
    if (this.full) return 2; // uWS: dropped, over maxBackpressure
    this.sent.push(message);
    return 1;
  }

  end(code?: number): void {
    this.session?.onClosed(code ?? 1000);
  }

  cork(cb: () => void): void {
    cb();
  }
}

function sessionWithSocket(clock?: FakeClock): {
  session: Session;
  socket: FakeSocket;
  published: Published[];
} {
  const config = loadConfig({ OCPP_GW_NODE_ID: 'unit' });
  const published: Published[] = [];
  const link = {
    publish(topic: string, payload: string, _qos: number, _props: unknown, done: (error?: Error) => void) {
      published.push({ topic, json: JSON.parse(payload) as Published['json'] });
      done(undefined);
    },
  } as unknown as MqttLink;
  const metrics = new Metrics('unit', 'test');
  const log = pino({ level: 'silent' });
  const publisher = new UpstreamPublisher({
    link,
    topics: new TopicMap(config.topics),
    qos: 1,
    nodeId: 'unit',
    metrics,
    log,
  });
  const session = new Session('cp1', V16, '127.0.0.1', undefined, {
    nodeId: 'unit',
    publisher,
    metrics,
    log,
    table: new SessionTable(),
    schemas: new SchemaPolicy({ upstream: false, downstream: false, subprotocols: [] }),
    maxQueueLength: 10,
    maxFrameBytes: 262_144,
    callTimeoutMs: 60_000,
    heartbeatIntervalS: 60,
    nextEpoch: () => '1',
    reroute: () => assert.fail('nothing is rerouted here'),
    clock,
  });
  const socket = new FakeSocket();
  socket.session = session;
  session.attach(socket);
  return { session, socket, published };
}

function replies(published: Published[], uniqueId: string): Published[] {
  return published
    .filter((p) => p.topic.includes('/err/') || p.json.ErrorDetails !== undefined)
    .filter((p) => p.json.UniqueId === uniqueId);
}

const reset = (uniqueId: string) =>
  ({ type: 2, uniqueId, action: 'Reset', payload: { type: 'Soft' } }) as const;

describe('Session: a CALL the socket refuses (over the backpressure limit)', () => {
  it('answers the first CALL of an empty queue once, as backpressure', () => {
    const { session, socket, published } = sessionWithSocket();
    socket.full = true;
    let acks = 0;
    session.deliver(reset('c1'), () => acks++);
    const answers = replies(published, 'c1');
    assert.deepEqual(
      answers.map((a) => a.json.ErrorDetails?.reason),
      ['backpressure'],
    );
    assert.equal(acks, 1);
    assert.equal(session.state, 'closed');
  });

  it('answers a waiting CALL whose turn comes on a full socket once, as backpressure', () => {
    const { session, socket, published } = sessionWithSocket();
    let acks = 0;
    session.deliver(reset('c1'), () => acks++);
    session.deliver(reset('c2'), () => acks++);
    assert.equal(socket.sent.length, 1);
    socket.full = true;
    session.onText('[3,"c1",{"status":"Accepted"}]');
    assert.deepEqual(
      replies(published, 'c2').map((a) => a.json.ErrorDetails?.reason),
      ['backpressure'],
    );
    assert.equal(acks, 2);
    assert.equal(session.state, 'closed');
  });
});

describe('Session: downstream CALL timeout with a fake clock', () => {
  it('answers a CALL the CP never answers `timeout` once, at callTimeoutMs, and starts the next', () => {
    const clock = new FakeClock();
    const { session, socket, published } = sessionWithSocket(clock);
    let acks = 0;
    session.deliver(reset('c1'), () => acks++);
    session.deliver(reset('c2'), () => acks++);
    clock.advance(59_999);
    assert.deepEqual(replies(published, 'c1'), []);
    clock.advance(1);
    assert.deepEqual(
      replies(published, 'c1').map((a) => a.json.ErrorDetails?.reason),
      ['timeout'],
    );
    assert.equal(acks, 1);
    assert.equal(socket.sent.length, 2, 'the waiting CALL is written once the first timed out');
    session.onText('[3,"c2",{}]');
    assert.equal(acks, 2);
    assert.equal(clock.liveTimers, 0);
  });

  it('leaves no timer behind when the socket closes with CALLs pending', () => {
    const clock = new FakeClock();
    const { session, published } = sessionWithSocket(clock);
    session.deliver(reset('c1'));
    session.deliver(reset('c2'));
    session.onClosed(1006);
    assert.deepEqual(
      [...replies(published, 'c1'), ...replies(published, 'c2')].map((a) => a.json.ErrorDetails?.reason),
      ['disconnected', 'offline'],
    );
    assert.equal(clock.liveTimers, 0);
  });
});
