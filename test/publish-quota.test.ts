import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { probeLink } from './harness/link-probe.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

/** An MQTT 5 UTF-8 Encoded String (§1.5.4). */
function utf8(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

/** A control packet: fixed header with the Variable Byte Integer length (§2.1.4), then `body`. */
function packet(firstByte: number, body: Buffer): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    length.push(digit);
  } while (n > 0);
  return Buffer.concat([Buffer.from([firstByte, ...length]), body]);
}

/**
 * What a gateway killed with QoS 2 publishes half done leaves in its broker session: `count`
 * PUBLISHes the broker answered with PUBREC and that will never get their PUBREL, since the
 * process that knew them is gone (MQTT 5 §4.3.3). Raw packets: mqtt.js would send the PUBRELs.
 */
async function leaveHalfDoneQos2(port: number, clientId: string, count: number): Promise<void> {
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // CONNECT v5, Clean Start 0, keep-alive 60 s, Session Expiry Interval 300 s (property 0x11).
  const variable = Buffer.from([5, 0x00, 0, 60, 5, 0x11, 0, 0, 0x01, 0x2c]);
  socket.write(packet(0x10, Buffer.concat([utf8('MQTT'), variable, utf8(clientId)])));
  for (let i = 0; i < count; i++) {
    const id = 40_000 + i;
    // PUBLISH QoS 2: topic, Packet Identifier, no properties, payload.
    const body = Buffer.concat([
      utf8('ocpp/cp/dead/Reply'),
      Buffer.from([id >> 8, id & 0xff, 0]),
      Buffer.from(`stale ${i}`),
    ]);
    socket.write(packet(0x34, body));
  }
  // CONNACK (at least 5 bytes) and one 4-byte PUBREC per publish (6 with a reason code).
  for (let i = 0; i < 100 && received < 5 + 4 * count; i++) await sleep(20);
  socket.destroy();
  await sleep(100);
}

describe('a publish the broker refuses for its quota (0x97) is sent again', () => {
  it('loses no outcome on a resumed session whose broker quota is used up by a dead connection', async () => {
    const broker = await Mosquitto.start();
    started.push(broker);
    const backend = await MqttObserver.connect(broker.url, ['ocpp/cp/+/Reply']);
    started.push({ stop: () => backend.client.endAsync(true) });
    const clientId = 'ocpp-gw-quota';
    await leaveHalfDoneQos2(broker.port, clientId, 25);

    const probe = await probeLink(broker.url, { clientId, sessionExpiryS: 300 });
    started.push({ stop: () => probe.link.end(500) });
    assert.equal(probe.link.connack.sessionPresent, true, 'the dead connection’s session is resumed');
    // The broker's answers as they arrive: the quota refusals this test is about.
    const refusals: number[] = [];
    const client = (probe.link as unknown as { client: MqttClient }).client;
    client.on('packetreceive', (p) => {
      if ((p.cmd === 'puback' || p.cmd === 'pubrec') && (p.reasonCode ?? 0) >= 0x80)
        refusals.push(p.reasonCode ?? 0);
    });

    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => probe.publish('ocpp/cp/cp1/Reply', `outcome ${i}`, 2)),
    );
    assert.ok(
      refusals.includes(0x97),
      `mosquitto refused with Quota exceeded (saw ${JSON.stringify(refusals)})`,
    );
    const failed = outcomes.flatMap((e, i) => (e === undefined ? [] : [`${i}: ${e.message}`]));
    assert.deepEqual(failed, [], 'every publish acknowledged in the end');
    await backend.waitFor(
      (t) => t === 'ocpp/cp/cp1/Reply',
      () => backend.on('ocpp/cp/cp1/Reply').length >= 200,
      5000,
    );
    // Those sent behind a refused one in the same window may arrive before it.
    const delivered = backend
      .on('ocpp/cp/cp1/Reply')
      .map((m) => m.raw)
      .sort();
    const expected = Array.from({ length: 200 }, (_, i) => `outcome ${i}`).sort();
    assert.deepEqual(delivered, expected, 'each outcome delivered exactly once');
  });
});
