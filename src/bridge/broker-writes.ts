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
