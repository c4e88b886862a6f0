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

function sessionWithSocket(): { session: Session; socket: FakeSocket; published: Published[] } {
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
