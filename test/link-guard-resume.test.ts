import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { LinkGuard } from '../src/bridge/link-guard.js';
import { createLogger } from '../src/observability/logger.js';
import { Mosquitto } from './harness/mosquitto.js';
import { eventually } from './harness/time.js';

function connect(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 5, ...options });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/**
 * A link held after its session was taken over or it closed while the node's liveness lapsed
 * (docs/architecture.md §5.13) resumes with its unacknowledged QoS 1 publishes: the answers and
 * error replies it could not get out meanwhile. mqtt.js's reconnect() without stores replaced
 * them with empty ones, so such an outcome was never published and its command never
 * acknowledged: the chaos suite's commands "without any outcome" after a cut node took its
 * session back, and the partition test's "written, the answer never published".
 */
describe('LinkGuard: a held link resumes with its unacknowledged publishes', () => {
  let broker: Mosquitto;
  let backend: MqttClient;
  let client: MqttClient | undefined;
  const seen: string[] = [];
  before(async () => {
    broker = await Mosquitto.start();
    backend = await connect(broker.url, { clientId: 'backend', reconnectPeriod: 0 });
    backend.on('message', (_topic, payload) => seen.push(payload.toString()));
    await backend.subscribeAsync('ocpp/cp/+/Reply', { qos: 1 });
  });
  after(async () => {
    client?.end(true);
    backend.end(true);
    await broker.stop();
  });

  it('a QoS 1 publish made while the link was held reaches the broker after resume()', async () => {
    const gw = await connect(broker.url, {
      clientId: 'ocpp-gw-held',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      reconnectPeriod: 100,
    });
    client = gw;
    const guard = new LinkGuard(gw, createLogger({ logLevel: 'silent', nodeId: 'held' }), () => undefined);
    guard.onClose(() => guard.hold());
    // The link drops (a keepalive timeout in a silent cut ends the same way): held, no reconnect.
    gw.stream.destroy();
    await eventually(() => !gw.connected && guard.held, 5000, 'link closed and held');
    let settled: Error | undefined | null = null;
    gw.publish('ocpp/cp/cp1/Reply', 'answer-while-held', { qos: 1 }, (error) => {
      settled = error ?? undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(gw.connected, false, 'still held: no reconnect on its own');
    guard.resume();
    await eventually(
      () => seen.includes('answer-while-held'),
      5000,
      'the held answer published after resume',
    );
    await eventually(() => settled !== null, 5000, 'its callback called');
    assert.equal(settled, undefined, 'acknowledged by the broker');
  });

  it('probe(): true while the connection reaches the broker, false once another client took the session', async () => {
    const gw = await connect(broker.url, { clientId: 'ocpp-gw-probed', reconnectPeriod: 0 });
    const guard = new LinkGuard(gw, createLogger({ logLevel: 'silent', nodeId: 'probed' }), () => undefined);
    assert.equal(await guard.probe(5000), true, 'PINGRESP on a live connection');
    // An adopter connects with the node's client id: the broker closes the node's connection.
    const adopter = await connect(broker.url, { clientId: 'ocpp-gw-probed', reconnectPeriod: 0 });
    try {
      const started = Date.now();
      assert.equal(await guard.probe(5000), false, 'closed, not answered');
      assert.ok(Date.now() - started < 5000, 'told by the close, not by the timeout');
    } finally {
      adopter.end(true);
      gw.end(true);
    }
  });
});
