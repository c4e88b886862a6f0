import { connect as tcpConnect, type Socket } from 'node:net';
import { sleep } from './time.js';

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
 * Resolves with the payloads of those the broker holds (PUBREC reason 0; mosquitto refuses some
 * past its quota with 0x97). Packet ids from `firstId` on.
 */
export async function leaveHalfDoneQos2(
  port: number,
  clientId: string,
  count: number,
  firstId = 40_000,
): Promise<string[]> {
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  let bytes = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // CONNECT v5, Clean Start 0, keep-alive 60 s, Session Expiry Interval 300 s (property 0x11).
  const variable = Buffer.from([5, 0x00, 0, 60, 5, 0x11, 0, 0, 0x01, 0x2c]);
  socket.write(packet(0x10, Buffer.concat([utf8('MQTT'), variable, utf8(clientId)])));
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    // PUBLISH QoS 2: topic, Packet Identifier, no properties, payload.
    const body = Buffer.concat([
      utf8('ocpp/cp/dead/Reply'),
      Buffer.from([id >> 8, id & 0xff, 0]),
      Buffer.from(`stale ${i}`),
    ]);
    socket.write(packet(0x34, body));
  }
  // The CONNACK, then one PUBREC per publish: the broker holds those it answered with reason 0.
  let answers: Map<number, number> = new Map();
  for (let i = 0; i < 100 && answers.size < count; i++) {
    await sleep(20);
    answers = pubrecs(bytes);
  }
  socket.destroy();
  await sleep(100);
  return [...answers].filter(([, reason]) => reason < 0x80).map(([id]) => `stale ${id - firstId}`);
}

/** PUBRECs in `bytes` (packet id -> reason code); other packets skipped. Lengths below 128 only. */
function pubrecs(bytes: Buffer): Map<number, number> {
  const found = new Map<number, number>();
  for (let at = 0; at + 1 < bytes.length;) {
    const length = bytes[at + 1] ?? 0;
    if (at + 2 + length > bytes.length) break;
    if (bytes[at] === 0x50) found.set(bytes.readUInt16BE(at + 2), length > 2 ? (bytes[at + 4] ?? 0) : 0);
    at += 2 + length;
  }
  return found;
}
