import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { Inbox } from '../src/bridge/inbox.js';
import { createLogger } from '../src/observability/logger.js';
import { Mosquitto } from './harness/mosquitto.js';
import { eventually } from './harness/time.js';

const SESSION = { clientId: 'ocpp-gw-early', clean: false, properties: { sessionExpiryInterval: 60 } };

/**
 * Messages of a resumed session that arrive before the handler is set wait in the inbox
 * (docs/architecture.md §4.2); if their connection closes first (an adopter took the session over
 * while the restarted node was still starting), the broker sends them again to whoever holds the
 * session, so the inbox must not hand them out too. It did: the restarted node wrote a queued
 * command (DUP 0 in its inbox) after the adopter had written its copy, the chaos suite's
 * "written twice after a kill -9 and restart".
 */
describe('Inbox: early messages of a closed connection are left to the broker', () => {
  let broker: Mosquitto;
  let backend: MqttClient;
  let client: MqttClient | undefined;
  before(async () => {
    broker = await Mosquitto.start();
    backend = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'backend',
      reconnectPeriod: 0,
    });
    // The node's persistent session, with the downstream subscription, offline.
    const node = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, ...SESSION });
    await node.subscribeAsync('$share/g/ocpp/cs/+', { qos: 1 });
    await node.endAsync();
  });
  after(async () => {
    client?.end(true);
    backend.end(true);
    await broker.stop();
  });

  it('a message queued for the session is handled once, as the redelivery of the next connection', async () => {
    await backend.publishAsync('ocpp/cs/cp1', 'queued', { qos: 1 });
    const inbox = new Inbox(createLogger({ logLevel: 'silent', nodeId: 'early' }));
    const node = mqtt.connect(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...SESSION,
      customHandleAcks: inbox.customHandleAcks,
    });
    client = node;
    inbox.attach(node);
    await eventually(() => inbox.unackedCount === 1, 5000, 'the queued message waits in the inbox');
    node.stream.destroy();
    await eventually(() => !node.connected, 5000, 'the connection closed before the handler was set');
    const handled: Array<{ payload: string; dup: boolean }> = [];
    inbox.onMessage((_topic, payload, packet, ack) => {
      handled.push({ payload: payload.toString(), dup: packet.dup });
      ack();
    });
    const { incomingStore, outgoingStore } = node;
    node.reconnect({ incomingStore, outgoingStore });
    await eventually(() => handled.length >= 1, 5000, 'the message handled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(handled, [{ payload: 'queued', dup: true }]);
    assert.equal(inbox.unackedCount, 0);
  });
});
