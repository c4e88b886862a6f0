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
import type { OcppVersion } from '../../src/ocpp/versions/version.js';
import { V16 } from '../../src/ocpp/versions/v16.js';
import { V201 } from '../../src/ocpp/versions/v201.js';
import { V21 } from '../../src/ocpp/versions/v21.js';

const socket: CpSocket = { send: () => 1, end: () => undefined, cork: (cb) => cb() };

function session(version: OcppVersion): Session {
  const config = loadConfig({ OCPP_GW_NODE_ID: 'unit' });
  const link = { publish: (...args: unknown[]) => (args[4] as (e?: Error) => void)(undefined) };
  const metrics = new Metrics('unit', 'test');
  const log = pino({ level: 'silent' });
  const publisher = new UpstreamPublisher({
    link: link as unknown as MqttLink,
    topics: new TopicMap(config.topics),
    qos: 1,
    nodeId: 'unit',
    metrics,
    log,
  });
  const s = new Session('cp1', version, '127.0.0.1', undefined, {
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
  s.attach(socket);
  return s;
}

const accepted = (uniqueId: string, interval: number) =>
  ({
    type: 3,
    uniqueId,
    payload: { status: 'Accepted', currentTime: '2026-01-01T00:00:00Z', interval },
  }) as const;

describe('heartbeat interval by version', () => {
  it('1.6 keeps EMQX rule: any Accepted reply with an interval, unless it answers another known CALL', () => {
    const s = session(V16);
    s.deliver(accepted('unknown-id', 123));
    assert.equal(s.keepaliveS, 123);
    assert.equal(s.state, 'booted');
  });

  for (const version of [V201, V21]) {
    it(`${version.name} takes it only from the reply to its BootNotification (OCPP 2.0.1 Part 2 B01)`, () => {
      const s = session(version);
      s.deliver(accepted('unknown-id', 123));
      assert.equal(s.keepaliveS, 60, 'a reply to no known CALL does not set it');
      assert.equal(s.state, 'open');
      s.onText('[2,"hb","Heartbeat",{}]');
      s.deliver(accepted('hb', 7));
      assert.equal(s.keepaliveS, 60, 'a reply to another CALL does not set it');
      s.onText(
        '[2,"boot","BootNotification",{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}]',
      );
      s.deliver(accepted('boot', 45));
      assert.equal(s.keepaliveS, 45);
      assert.equal(s.state, 'booted');
    });
  }
});
