import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from 'mqtt';
import { encodeHotPackets } from '../../src/bridge/broker-writes.js';
import { fakeBroker } from '../harness/fake-mqtt-broker.js';
import { eventually } from '../harness/time.js';
import { encodePacket, type PacketFields } from '../../src/bridge/packet-encoder.js';
import { mqttPacket } from '../harness/mqtt-packet.js';

const library = (packet: PacketFields, version: number): Buffer =>
  mqttPacket.generate({ ...packet }, { protocolVersion: version });

/** A small deterministic PRNG (mulberry32) so a failure names its case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const ALPHABET = ['a', 'Z', '9', '/', '{', '"', ' ', 'é', 'ß', '€', '中', '😀'];
function text(next: () => number, max: number): string {
  let out = '';
  const length = Math.floor(next() * max);
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return out;
}

describe('encodePacket (narrow MQTT encoder) against mqtt-packet', () => {
  it('encodes PUBLISH exactly as the library for every QoS, flag and property shape, MQTT 3.1.1 and 5', () => {
    const next = random(7);
    for (let n = 0; n < 3000; n++) {
      const version = n % 2 === 0 ? 5 : 4;
      const qos = n % 3;
      const userProperties: Record<string, string | string[]> = {};
      const pairs = Math.floor(next() * 4);
      for (let p = 0; p < pairs; p++)
        userProperties[`k${p}${text(next, 6)}`] =
          next() < 0.3 ? [text(next, 5), text(next, 5)] : text(next, 20);
      const payloadText = text(next, n % 50 === 0 ? 400 : 60);
      const packet: PacketFields = {
        cmd: 'publish',
        topic: `ocpp/cp/${text(next, 12)}`,
        payload: next() < 0.5 ? payloadText : Buffer.from(payloadText),
        qos,
        dup: next() < 0.2,
        retain: next() < 0.2,
        ...(qos > 0 ? { messageId: 1 + Math.floor(next() * 65535) } : {}),
        ...(pairs > 0 ? { properties: { userProperties } } : next() < 0.5 ? { properties: {} } : {}),
      };
      const ours = encodePacket(packet, version);
      assert.ok(ours !== undefined, `case ${n} fell back`);
      assert.deepEqual(ours, library(packet, version), `case ${n}: ${JSON.stringify(packet)}`);
    }
  });

  it('encodes large payloads across the Remaining Length size steps', () => {
    for (const size of [0, 100, 127, 128, 16_383, 16_384, 70_000, 2_097_200]) {
      const packet = { cmd: 'publish', topic: 't', payload: 'x'.repeat(size), qos: 1, messageId: 9 };
      for (const version of [4, 5])
        assert.deepEqual(encodePacket(packet, version), library(packet, version), `size ${size}`);
    }
  });

  it('encodes PUBACK, PUBREC, PUBREL and PUBCOMP exactly as the library, with and without a reason code', () => {
    for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'])
      for (const version of [4, 5])
        for (const reasonCode of [undefined, 0, 16, 0x80, 0x97])
          for (const messageId of [1, 255, 256, 65535]) {
            const packet = { cmd, messageId, ...(reasonCode === undefined ? {} : { reasonCode }) };
            assert.deepEqual(
              encodePacket(packet, version),
              library(packet, version),
              JSON.stringify({ packet, version }),
            );
          }
  });

  it('leaves every other packet and shape to the library', () => {
    const fallbacks: PacketFields[] = [
      { cmd: 'connect' },
      { cmd: 'subscribe', messageId: 1 },
      { cmd: 'pingreq' },
      { cmd: 'publish', topic: Buffer.from('t'), payload: 'x', qos: 0 },
      { cmd: 'publish', topic: 't', payload: 'x', qos: 1 },
      { cmd: 'publish', topic: 't', payload: 'x', qos: 3 },
      { cmd: 'publish', topic: 't', payload: 'x', qos: 0, properties: { messageExpiryInterval: 5 } },
      { cmd: 'publish', topic: 't', payload: 'x', qos: 0, properties: { userProperties: { a: 1 } } },
      { cmd: 'publish', topic: 't', payload: 'x', qos: 0, properties: { userProperties: {} } },
      { cmd: 'publish', topic: 't', payload: 'x', qos: 0, properties: { userProperties: [['a', 'b']] } },
      { cmd: 'publish', topic: 't', payload: { json: true }, qos: 0 },
      { cmd: 'puback', messageId: 1, properties: { reasonString: 'no' } },
      { cmd: 'pubrel', messageId: 1, dup: true },
      { cmd: 'puback', messageId: '1' },
    ];
    for (const packet of fallbacks) assert.equal(encodePacket(packet, 5), undefined, JSON.stringify(packet));
  });
});

describe('encodeHotPackets on a real mqtt.js client', () => {
  it('writes the library bytes, and the publish completes on the PUBACK', async () => {
    const broker = await fakeBroker();
    const { bytes } = broker;
    const client = connect(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    // Whatever reaches the library's writer is recorded: the hot packets must not.
    const toLibrary: string[] = [];
    const writer = client as unknown as {
      _writePacket: (this: unknown, p: { cmd: string }, cb?: () => void) => void;
    };
    const libraryWrite = writer._writePacket;
    writer._writePacket = function (this: unknown, p: { cmd: string }, cb?: () => void): void {
      toLibrary.push(p.cmd);
      libraryWrite.call(this, p, cb);
    };
    assert.equal(encodeHotPackets(client), true);
    await new Promise((resolve) => client.once('connect', resolve));
    const connectBytes = Buffer.concat(bytes).length;
    const done = new Promise<Error | undefined>((resolve) =>
      client.publish(
        'ocpp/cp/CP1',
        '[2,"1","Heartbeat",{}]',
        { qos: 1, properties: { userProperties: { clientid: 'CP1' } } },
        (err) => resolve(err ?? undefined),
      ),
    );
    await eventually(() => Buffer.concat(bytes).length > connectBytes, 5000, 'the PUBLISH written');
    const sent = Buffer.concat(bytes).subarray(connectBytes);
    const expected = library(
      {
        cmd: 'publish',
        topic: 'ocpp/cp/CP1',
        payload: '[2,"1","Heartbeat",{}]',
        qos: 1,
        messageId: sent.readUInt16BE(15),
        properties: { userProperties: { clientid: 'CP1' } },
      },
      5,
    );
    assert.deepEqual(sent, expected);
    broker.peer().write(Buffer.from([0x40, 2, sent[15] ?? 0, sent[16] ?? 0]));
    assert.equal(await done, undefined);
    assert.deepEqual(toLibrary, [], 'PUBLISH went through the library encoder');
    await client.endAsync(true);
    broker.close();
  });
});
