import type { MqttClient } from 'mqtt';
import { coalesceWrites, type CoalescableSocket } from '../io/write-coalescer.js';
import { encodePacket, type PacketFields } from './packet-encoder.js';

/**
 * How the node's packets reach the broker socket: one write per event-loop turn on every socket
 * mqtt.js builds (a new one per reconnect), and the hot packets encoded by packet-encoder.ts
 * instead of mqtt-packet. docs/architecture.md §4.7.
 */
export function installBrokerWrites(client: MqttClient): void {
  coalesceBrokerWrites(client);
  encodeHotPackets(client);
  storeWithoutCopy(client);
}

function coalesceBrokerWrites(client: MqttClient): void {
  const install = (): void => {
    const stream = client.stream as Partial<CoalescableSocket> | undefined;
    if (typeof stream?.write === 'function' && typeof stream.end === 'function')
      coalesceWrites(stream as CoalescableSocket);
  };
  // The first CONNECT is written inside mqtt.connect(), before this listener exists.
  install();
  client.on('packetsend', (packet) => {
    if (packet.cmd === 'connect') install();
  });
}

/** The part of mqtt.js's client that writes one packet (mqtt 5.x `_writePacket`). */
interface PacketWriter {
  _writePacket: (this: unknown, packet: PacketFields, cb?: () => void) => void;
  noop: unknown;
}

/**
 * Replaces this client's `_writePacket` with one that writes a packet the narrow encoder takes as
 * one Buffer, and hands everything else to the library's. The rest is what mqtt.js 5.x does
 * there: `packetsend` (the refusal guard, released-publishes and the socket set-up listen to it),
 * then the callback now, or on `drain` when the socket's buffer is full. A client without
 * `_writePacket` (another mqtt.js) keeps the library's path entirely.
 */
export function encodeHotPackets(client: MqttClient): boolean {
  const writer = client as unknown as PacketWriter;
  const library = writer._writePacket;
  if (typeof library !== 'function') return false;
  writer._writePacket = function writePacket(this: unknown, packet: PacketFields, cb?: () => void): void {
    const bytes = encodePacket(packet, client.options.protocolVersion ?? 4);
    if (bytes === undefined) {
      library.call(this, packet, cb);
      return;
    }
    client.emit('packetsend', packet as Parameters<typeof client.emit<'packetsend'>>[1]);
    const written = client.stream.write(bytes);
    if (!written && cb !== undefined && cb !== writer.noop) client.stream.once('drain', cb);
    else cb?.();
  };
  return true;
}

/** The part of mqtt.js's client that keeps a QoS 1/2 packet before writing it (mqtt 5.x `_storeAndSend`). */
interface PacketStorer {
  _storeAndSend: (
    this: unknown,
    packet: StoredPacket,
    cb?: (error?: Error) => void,
    cbStorePut?: () => void,
  ) => void;
  _writePacket: (packet: StoredPacket, cb?: (error?: Error) => void) => void;
  outgoingStore: { put: (packet: StoredPacket, cb: (error?: Error) => void) => unknown };
}

interface StoredPacket extends PacketFields {
  readonly properties?: { readonly topicAlias?: unknown };
}

/**
 * Replaces this client's `_storeAndSend` with one that keeps in the outgoing store the PUBLISH it
 * writes, not a deep copy of it. mqtt.js copies every QoS 1/2 PUBLISH (rfdc) because the packet it
 * writes may carry a Topic Alias in place of its topic (MQTT 5 §3.3.2.3.4) while the stored one,
 * sent again after a reconnect, must carry the name; the copy cost about 1 µs per publish here,
 * one per upstream round trip (docs/architecture.md §4.7). This node sets no alias, and neither
 * mqtt.js nor this node changes a packet once handed over (released-publishes.ts copies before it
 * changes one); the payload is a string. A PUBLISH with an alias, any other packet, and a client
 * without `_storeAndSend` keep the library's path.
 */
export function storeWithoutCopy(client: MqttClient): boolean {
  const storer = client as unknown as PacketStorer;
  const library = storer._storeAndSend;
  if (typeof library !== 'function') return false;
  storer._storeAndSend = function storeAndSend(this: unknown, packet, cb, cbStorePut): void {
    if (packet.cmd !== 'publish' || packet.properties?.topicAlias !== undefined) {
      library.call(this, packet, cb, cbStorePut);
      return;
    }
    storer.outgoingStore.put(packet, (error) => {
      if (error) {
        cb?.(error);
        return;
      }
      cbStorePut?.();
      storer._writePacket(packet, cb);
    });
  };
  return true;
}
