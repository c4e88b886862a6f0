import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { ReleasedPublishes } from '../../src/bridge/released-publishes.js';
import { eventually } from '../harness/time.js';

/** MQTT control packet types (MQTT 5 §2.1.2). */
const CONNECT = 1;
const PUBLISH = 3;
const PUBREL = 6;

/** Splits a byte stream into packets: [type, packet identifier (for PUBLISH: after the topic)]. */
function packets(onPacket: (type: number, id: number) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let at = 1;
      let byte = 0x80;
      while ((byte & 0x80) !== 0) {
        if (at >= pending.length) return;
        byte = pending[at] ?? 0;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        at += 1;
      }
      if (pending.length < at + length) return;
      const type = (pending[0] ?? 0) >> 4;
      const body = pending.subarray(at, at + length);
      const id =
        type === PUBLISH
          ? body.readUInt16BE(2 + body.readUInt16BE(0))
          : length >= 2
            ? body.readUInt16BE(0)
            : 0;
      onPacket(type, id);
      pending = pending.subarray(at + length);
    }
  };
}

const bytes = (...values: number[]): Buffer => Buffer.from(values);

/**
 * Connection 1: PUBLISH, PUBREC, the client's PUBREL, then the broker goes away. Connection 2
 * (Session Present 1): the client resends the PUBREL, answered with `resentPubrelAnswer` (the
 * first byte of a PUBREC or PUBCOMP). The client has a persistent session and reconnects at once;
 * `seen` records "connection:type:packet id" of what the broker read.
 */
async function scripted(resentPubrelAnswer: number): Promise<{
  client: MqttClient;
  seen: string[];
  close: () => void;
}> {
  let connections = 0;
  const sockets: Socket[] = [];
  const seen: string[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    connections += 1;
    const connection = connections;
    const handle = (type: number, id: number): void => {
      seen.push(`${connection}:${type}:${id}`);
      const hi = id >> 8;
      const lo = id & 0xff;
      // CONNACK: Session Present 0 on the first connection, 1 after (MQTT 5, no properties).
      if (type === CONNECT) socket.write(bytes(0x20, 3, connection === 1 ? 0 : 1, 0, 0));
      else if (type === PUBLISH && connection === 1)
        socket.write(bytes(0x50, 2, hi, lo)); // PUBREC
      else if (type === PUBREL && connection === 1) socket.destroy();
      else if (type === PUBREL) socket.write(bytes(resentPubrelAnswer, 2, hi, lo));
    };
    socket.on('data', packets(handle));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    protocolVersion: 5,
    clientId: 'released-publishes-test',
    clean: false,
    reconnectPeriod: 50,
  });
  const close = (): void => {
    client.end(true);
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return { client, seen, close };
}

describe('ReleasedPublishes: a restarted broker contradicting a released QoS 2 publish', () => {
  it('publishes it again when the broker answers its resent PUBREL with a PUBREC', async () => {
    // A PUBREC to the resent PUBREL: the broker's restored session holds a message under that id.
    const { client, seen, close } = await scripted(0x50); // PUBREC
    client.on('error', () => undefined); // mqtt.js reports the contradicting PUBREC as an error
    const again: IPublishPacket[] = [];
    new ReleasedPublishes(client, (publish) => again.push(publish));
    try {
      await new Promise((resolve) => client.once('connect', resolve));
      client.publish('ocpp/cp/CP1/Reply', '[3,"7",{}]', {
        qos: 2,
        properties: { userProperties: { 'ocpp-version': 'ocpp1.6' } },
      });
      await eventually(() => again.length > 0, 5000, 'the released publish sent again');
      assert.equal(again.length, 1, `not published again; broker saw ${seen.join(' ')}`);
      assert.equal(again[0]?.topic, 'ocpp/cp/CP1/Reply');
      assert.equal(String(again[0]?.payload), '[3,"7",{}]');
      assert.deepEqual(again[0]?.properties?.userProperties, { 'ocpp-version': 'ocpp1.6' });
      assert.ok(
        seen.some((s) => s.startsWith(`2:${PUBREL}:`)),
        'the PUBREL was resent on connection 2',
      );
    } finally {
      close();
    }
  });

  it('publishes nothing again when the resent PUBREL is completed as it should be', async () => {
    const { client, close } = await scripted(0x70); // PUBCOMP
    const again: IPublishPacket[] = [];
    new ReleasedPublishes(client, (publish) => again.push(publish));
    try {
      await new Promise((resolve) => client.once('connect', resolve));
      const done = new Promise<Error | undefined>((resolve) =>
        client.publish('ocpp/cp/CP1/Reply', '[3,"8",{}]', { qos: 2 }, (error) => resolve(error ?? undefined)),
      );
      assert.equal(await done, undefined);
      assert.equal(again.length, 0);
    } finally {
      close();
    }
  });
});
