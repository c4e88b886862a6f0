import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { probeLink, type LinkProbe } from './harness/link-probe.js';
import { Mosquitto } from './harness/mosquitto.js';
import { eventually } from './harness/time.js';

/**
 * PUBACKs that come due while the broker connection is down (a node answering every command of a
 * reconnect storm while its link is away). mqtt.js queues them and, on reconnect, sends its queue
 * by a recursion one level deep per packet: in the 57,000-station capacity run a node died of
 * `RangeError: Maximum call stack size exceeded` doing so. Real mosquitto, real MqttLink.
 */
const MESSAGES = 20_000;

/** The link's mqtt.js client, to cut its TCP connection the way a network fault does. */
function clientOf(probe: LinkProbe): MqttClient {
  return (probe.link as unknown as { client: MqttClient }).client;
}

async function receiveUnacked(broker: Mosquitto, probe: LinkProbe, topic: string): Promise<(() => void)[]> {
  const acks: (() => void)[] = [];
  probe.link.onMessage((t, _payload, _packet, ack) => {
    if (t === topic) acks.push(ack);
  });
  await probe.link.subscribe(topic, 1);
  const publisher = await connectAsync(broker.url, { protocolVersion: 5 });
  for (let i = 0; i < MESSAGES; i++) void publisher.publishAsync(topic, String(i), { qos: 1 });
  await eventually(() => acks.length === MESSAGES, 60_000, `${MESSAGES} messages received`);
  await publisher.endAsync();
  return acks;
}

/** The link is back, subscribed, and a new message reaches the handler. */
async function roundTrip(broker: Mosquitto, probe: LinkProbe, topic: string): Promise<void> {
  const seen: string[] = [];
  probe.link.onMessage((t, payload, _packet, ack) => {
    if (t === topic) seen.push(payload.toString());
    ack();
  });
  const publisher = await connectAsync(broker.url, { protocolVersion: 5 });
  await eventually(
    async () => {
      await publisher.publishAsync(topic, 'after', { qos: 1 });
      return seen.includes('after');
    },
    30_000,
    'a message after the reconnect',
  );
  await publisher.endAsync();
}

describe('PUBACKs due while the MQTT connection is down', () => {
  let broker: Mosquitto;
  const probes: LinkProbe[] = [];
  before(async () => {
    // No in-flight window: the broker hands every message over before any is acknowledged.
    broker = await Mosquitto.start(['max_inflight_messages 0']);
  });
  after(async () => {
    for (const probe of probes) await probe.link.end(1000, true);
    await broker.stop();
  });

  it(`sends ${MESSAGES} of them after a reconnect into the same session, and the node lives`, async () => {
    const probe = await probeLink(broker.url, { clientId: 'held-acks-session', sessionExpiryS: 300 });
    probes.push(probe);
    const acks = await receiveUnacked(broker, probe, 'held/session');
    const client = clientOf(probe);
    // From the reconnect on, the broker redelivers (DUP) what it has not seen acknowledged, maybe
    // before the held PUBACKs reach it: the handler acknowledges those at once.
    probe.link.onMessage((_t, _payload, _packet, ack) => ack());
    client.stream.destroy();
    await eventually(() => !client.connected, 10_000, 'the link to notice the cut');
    for (const ack of acks) ack();
    await eventually(() => client.connected, 30_000, 'the link to reconnect');
    // The broker redelivers what it had not seen acknowledged yet (DUP); the handler acks those.
    await roundTrip(broker, probe, 'held/session');
    // 20,000 redelivered and acknowledged: generous for a loaded machine (seen > 30 s under load 10).
    await eventually(() => probe.link.unackedCount === 0, 90_000, 'every message acknowledged');
    assert.ok(client.connected);
  });

  it(`drops ${MESSAGES} of them when the broker comes back without the session, and the node lives`, async () => {
    const probe = await probeLink(broker.url, { clientId: 'held-acks-restart', sessionExpiryS: 300 });
    probes.push(probe);
    const acks = await receiveUnacked(broker, probe, 'held/restart');
    const client = clientOf(probe);
    // `persistence false`: the restarted broker knows no session and none of those messages.
    await broker.restart();
    await eventually(
      () => !client.connected || client.reconnecting,
      10_000,
      'the link to notice the restart',
    );
    for (const ack of acks) ack();
    await eventually(() => client.connected, 30_000, 'the link to reconnect');
    assert.equal(probe.link.unackedCount, 0);
    await roundTrip(broker, probe, 'held/restart');
    assert.ok(client.connected);
  });
});
