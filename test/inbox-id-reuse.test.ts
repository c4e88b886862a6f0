import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { Inbox } from '../src/bridge/inbox.js';
import { createLogger } from '../src/observability/logger.js';
import { Mosquitto } from './harness/mosquitto.js';
import { eventually } from './harness/time.js';

/** Packet ids are 16 bits (MQTT 5 §2.2.1): after this many deliveries an id comes round again. */
const ID_SPACE = 65_535;

/**
 * A real mosquitto reuses a packet id that is still unacknowledged at the subscriber: it takes the
 * next of its 65,535 ids without looking at what is in flight ([MQTT-2.2.1-3] forbids it). The
 * inbox took the new message for the broker's copy of the one in flight and dropped it: it waited
 * in the broker until the next reconnect (the chaos run's 643-command burst, written 14 s late and
 * after later commands; in-flight-ids.ts). A copy has the same id, topic and payload; another
 * message under an id in flight is handed out like any other.
 */
describe('Inbox: a broker that reuses a packet id still in flight', () => {
  let broker: Mosquitto;
  let node: MqttClient;
  let backend: MqttClient;
  const inbox = new Inbox(createLogger({ logLevel: 'silent', nodeId: 'id-reuse' }));
  const handled: { payload: string; id: number | undefined; dup: boolean; ack: () => void }[] = [];
  before(async () => {
    broker = await Mosquitto.start();
    node = mqtt.connect(broker.url, {
      protocolVersion: 5,
      clientId: 'id-reuse-node',
      reconnectPeriod: 0,
      customHandleAcks: inbox.customHandleAcks,
    });
    inbox.attach(node);
    inbox.onMessage((_topic, payload, packet, ack) => {
      const entry = { payload: payload.toString(), id: packet.messageId, dup: packet.dup, ack };
      handled.push(entry);
      // Every message but the first is answered at once; the first stays in flight.
      if (handled.length > 1) ack();
    });
    await eventually(() => node.connected, 5000, 'node connected');
    await node.subscribeAsync('ocpp/cs/+', { qos: 1 });
    backend = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'id-reuse-backend' });
  });
  after(async () => {
    node.end(true);
    backend.end(true);
    await broker.stop();
  });

  it('hands out the new message, and each is acknowledged on its own', { timeout: 120_000 }, async () => {
    await backend.publishAsync('ocpp/cs/cp1', 'held', { qos: 1 });
    await eventually(() => handled.length === 1, 5000, 'the first message handed out');
    const heldId = handled[0]?.id;
    assert.ok(heldId !== undefined);
    for (let i = 1; i <= ID_SPACE; i++) void backend.publishAsync('ocpp/cs/cp1', `m${i}`, { qos: 1 });
    await eventually(() => handled.length === ID_SPACE + 1, 90_000, 'every message handed out');
    const reusing = handled.slice(1).filter((h) => h.id === heldId);
    assert.equal(reusing.length, 1, 'the broker reused the id of the message in flight once');
    assert.equal(reusing[0]?.dup, false);
    assert.equal(inbox.unackedCount, 1, 'only the first message is still unacknowledged');
    handled[0]?.ack();
    assert.equal(inbox.unackedCount, 0);
  });
});
