import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import { installBrokerWrites } from '../../src/bridge/broker-writes.js';
import { fakeBroker, type FakeBroker } from '../harness/fake-mqtt-broker.js';
import { eventually } from '../harness/time.js';

interface StoreView {
  outgoingStore: { _inflights: Map<number, object> };
  _storeAndSend: (this: unknown, packet: { cmd: string }, ...rest: unknown[]) => void;
}

/** Records what reaches mqtt.js's own `_storeAndSend` (the copying one). */
function spyLibraryStore(client: MqttClient): string[] {
  const view = client as unknown as StoreView;
  const library = view._storeAndSend;
  const seen: string[] = [];
  view._storeAndSend = function (this: unknown, packet: { cmd: string }, ...rest: unknown[]): void {
    seen.push(packet.cmd);
    library.call(this, packet, ...rest);
  };
  return seen;
}

/** Runs `body` with a connected client whose hot paths are installed, then closes both ends. */
async function withClient(
  body: (client: MqttClient, broker: FakeBroker, toLibrary: string[]) => Promise<void>,
) {
  const broker = await fakeBroker();
  const client = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  const toLibrary = spyLibraryStore(client);
  installBrokerWrites(client);
  try {
    await new Promise((resolve) => client.once('connect', resolve));
    await body(client, broker, toLibrary);
  } finally {
    client.end(true);
    broker.close();
  }
}

describe('storeWithoutCopy on a real mqtt.js client', () => {
  it('stores the PUBLISH it writes (no copy), and the publish completes on its PUBACK', async () => {
    await withClient(async (client, broker, toLibrary) => {
      const written: { cmd: string; messageId?: number }[] = [];
      client.on('packetsend', (packet) => written.push(packet));
      const done = new Promise<Error | undefined>((resolve) =>
        client.publish(
          'ocpp/cp/CP1',
          '[2,"1","Heartbeat",{}]',
          { qos: 1, properties: { userProperties: { 'ocpp-version': 'ocpp1.6' } } },
          (err) => resolve(err ?? undefined),
        ),
      );
      const publish = written.find((p) => p.cmd === 'publish');
      assert.ok(publish?.messageId !== undefined, 'the PUBLISH was written at once');
      const stored = (client as unknown as StoreView).outgoingStore._inflights.get(publish.messageId);
      assert.equal(stored, publish, 'the store holds the written packet itself, not a copy');
      assert.deepEqual(toLibrary, [], 'the PUBLISH went through the copying library path');
      const id = publish.messageId;
      broker.peer().write(Buffer.from([0x40, 2, id >> 8, id & 0xff]));
      assert.equal(await done, undefined);
      assert.equal((client as unknown as StoreView).outgoingStore._inflights.has(id), false);
    });
  });

  it('leaves a PUBREL to the library path', async () => {
    await withClient(async (client, broker, toLibrary) => {
      const done = new Promise<Error | undefined>((resolve) =>
        client.publish('ocpp/cp/CP1', 'x', { qos: 2 }, (err) => resolve(err ?? undefined)),
      );
      const before = Buffer.concat(broker.bytes).length;
      await eventually(() => Buffer.concat(broker.bytes).length > before, 5000, 'the PUBLISH written');
      const sent = Buffer.concat(broker.bytes).subarray(before);
      // PUBLISH QoS 2: fixed header, length, topic (2 + 11), then the packet identifier.
      const hi = sent[15] ?? 0;
      const lo = sent[16] ?? 0;
      broker.peer().write(Buffer.from([0x50, 2, hi, lo])); // PUBREC
      const withRel = Buffer.concat(broker.bytes).length;
      await eventually(() => Buffer.concat(broker.bytes).length > withRel, 5000, 'the PUBREL written');
      assert.deepEqual(toLibrary, ['pubrel']);
      broker.peer().write(Buffer.from([0x70, 2, hi, lo])); // PUBCOMP
      assert.equal(await done, undefined);
    });
  });
});
