import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { brokerShortfalls, type BrokerNeeds } from '../src/bridge/broker-limits.js';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

const WARNING = 'broker limit below what the gateway needs';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function logLines(gw: GatewayProcess): Array<Record<string, unknown>> {
  return gw
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function gatewayOn(extraConfig: string[]): Promise<{ gw: GatewayProcess; broker: Mosquitto }> {
  const broker = await Mosquitto.start(extraConfig);
  cleanups.push(() => broker.stop());
  const gw = await spawnGateway({ OCPP_GW_MQTT_URL: broker.url });
  cleanups.push(() => gw.stop('SIGKILL'));
  return { gw, broker };
}

describe('warning at start when the broker advertises limits below what the gateway needs', () => {
  it('names each setting once, at warn, for a mosquitto with low limits', async () => {
    const { gw } = await gatewayOn(['max_packet_size 65536', 'max_qos 1', 'max_inflight_messages 5']);
    const warnings = logLines(gw).filter((l) => l.msg === WARNING);
    assert.deepEqual(warnings.map((w) => w.setting).sort(), [
      'Maximum Packet Size',
      'Maximum QoS',
      'Receive Maximum',
    ]);
    assert.ok(
      warnings.every((w) => w.level === 40),
      'at warn',
    );
    const byName = new Map(warnings.map((w) => [w.setting, w]));
    assert.equal(byName.get('Maximum Packet Size')?.advertised, 65536);
    assert.equal(byName.get('Maximum Packet Size')?.needed, 262_144 + 1024);
    assert.equal(byName.get('Maximum QoS')?.advertised, 1);
    assert.equal(byName.get('Receive Maximum')?.advertised, 5);
    assert.match(String(byName.get('Maximum QoS')?.brokerSettings), /mosquitto max_qos/);
  });

  it('none with the test harness defaults', async () => {
    const { gw } = await gatewayOn([]);
    assert.deepEqual(
      logLines(gw).filter((l) => l.msg === WARNING),
      [],
    );
  });

  it('none with the shipped deploy/mosquitto/mosquitto.conf, and the bridge works through it', async () => {
    // mosquitto started as root writes its database as the mosquitto user.
    const data = mkdtempSync(join(tmpdir(), 'mosq-data-'));
    chmodSync(data, 0o777);
    const shipped = readFileSync(new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => (line.startsWith('persistence_location') ? `persistence_location ${data}/` : line));
    assert.ok(shipped.includes('set_tcp_nodelay true'));
    const { gw, broker } = await gatewayOn(shipped);
    assert.deepEqual(
      logLines(gw).filter((l) => l.msg === WARNING),
      [],
    );
    const backend = await MqttObserver.connect(broker.url, ['ocpp/#']);
    cleanups.push(() => backend.end());
    const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/shipped-cp`);
    cleanups.push(() => Promise.resolve(cp.ws.terminate()));
    cp.send([2, 's1', 'Heartbeat', {}]);
    await backend.waitFor('ocpp/cp/shipped-cp', (m: { UniqueId?: string }) => m.UniqueId === 's1');
    await backend.publish('ocpp/cs/shipped-cp', {
      MessageTypeId: 3,
      UniqueId: 's1',
      Payload: { currentTime: 'now' },
    });
    assert.deepEqual(await cp.next(), [3, 's1', { currentTime: 'now' }]);
  });

  it("publishes at the broker's Maximum QoS instead of losing the connection ([MQTT-3.2.2-11])", async () => {
    const { gw, broker } = await gatewayOn(['max_qos 1']);
    const backend = await MqttObserver.connect(broker.url, ['ocpp/#']);
    cleanups.push(() => backend.end());
    const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/qos-cp`);
    cleanups.push(() => Promise.resolve(cp.ws.terminate()));
    for (const id of ['q1', 'q2', 'q3']) cp.send([2, id, 'Heartbeat', {}]);
    for (const id of ['q1', 'q2', 'q3']) {
      const seen = await backend.waitFor('ocpp/cp/qos-cp', (m: { UniqueId?: string }) => m.UniqueId === id);
      assert.equal(seen.qos, 1);
    }
    await sleep(500);
    assert.equal(cp.inbox.length, 0, `no CALLERROR: ${JSON.stringify(cp.inbox)}`);
    const lost = logLines(gw).filter((l) => String(l.msg).startsWith('mqtt offline'));
    assert.deepEqual(lost, [], 'the MQTT link never went down');
  });
});

describe('brokerShortfalls (what mosquitto cannot advertise)', () => {
  const needs: BrokerNeeds = {
    maxFrameBytes: 262_144,
    upstreamQos: 2,
    cluster: true,
    sharedGroup: 'ocpp-gateway',
    sessionExpiryS: 300,
  };

  it('shared subscriptions unavailable while running a cluster', () => {
    const found = brokerShortfalls({ sharedSubscriptionAvailable: false }, needs);
    assert.deepEqual(
      found.map((f) => f.setting),
      ['Shared Subscription Available'],
    );
    assert.deepEqual(
      brokerShortfalls({ sharedSubscriptionAvailable: false }, { ...needs, cluster: false }),
      [],
    );
    assert.deepEqual(
      brokerShortfalls({ sharedSubscriptionAvailable: false }, { ...needs, sharedGroup: undefined }),
      [],
    );
  });

  it('a session expiry shortened by the broker (CONNACK Session Expiry Interval)', () => {
    const found = brokerShortfalls({ sessionExpiryInterval: 60 }, needs);
    assert.deepEqual(
      found.map((f) => [f.setting, f.advertised, f.needed]),
      [['Session Expiry Interval', 60, 300]],
    );
    assert.deepEqual(brokerShortfalls({ sessionExpiryInterval: 300 }, needs), []);
  });

  it('nothing advertised (MQTT 3.1.1, or no limits): nothing to warn about', () => {
    assert.deepEqual(brokerShortfalls(undefined, needs), []);
    assert.deepEqual(brokerShortfalls({}, needs), []);
    assert.deepEqual(brokerShortfalls({ receiveMaximum: 20, maximumPacketSize: 263_168 }, needs), []);
  });
});
