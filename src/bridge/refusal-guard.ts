import type { MqttClient, Packet } from 'mqtt';
import { PublishRefusedError } from '../errors.js';

/** A close this soon after a publish was written may be the broker's answer to it. */
const RIGHT_AFTER_MS = 1000;

/** Connections in a row that ended right after the same publish was written, before its ack. */
const DROPS_BEFORE_REFUSAL = 2;

/**
 * MQTT 5 DISCONNECT reason codes (§3.14.2.1) that blame something other than the packets in
 * flight: the server's state, the session, the client's rate. A publish is never refused for
 * these; it is sent again after the reconnect, as MQTT 5 §4.4 wants.
 */
const NOT_THE_PACKET = new Set([
  0x00, 0x89, 0x8b, 0x8d, 0x8e, 0x93, 0x96, 0x97, 0x98, 0x9c, 0x9d, 0x9f, 0xa0,
]);

interface Written {
  readonly topic: string;
  readonly at: number;
}

/**
 * Fails a publish in mqtt.js's outgoing store: the store forgets it (it is not sent again after
 * a reconnect) and its callback gets `error` instead of mqtt.js's own "Message removed".
 */
export function dropOutgoing(client: MqttClient, messageId: number, error: Error): void {
  const pending = client.outgoing[messageId];
  if (pending === undefined) return;
  const callback = pending.cb;
  pending.cb = () => callback(error);
  client.removeOutgoingMessage(messageId);
}

/**
 * The generic guard against a publish that a broker answers by closing the connection (a
 * malformed packet, a limit it does not advertise, MQTT 3.1.1 has no way to say why). mqtt.js
 * keeps an unacknowledged QoS 1/2 publish and writes it first after every reconnect, so such a
 * publish would take the link down once a second, for good. A publish that was written on two
 * connections in a row, each closed by the broker right after it and before any ack for it, is
 * taken out of the store and failed once with {@link PublishRefusedError} (`broker_disconnect`).
 * After a reconnect mqtt.js resends its store one packet at a time, so the second connection
 * convicts only the publish it was writing, not the ones queued behind it.
 */
export class RefusalGuard {
  /** QoS 1/2 publishes written on the current connection and not acknowledged yet. */
  private readonly written = new Map<number, Written>();
  /** Connections in a row that ended right after the publish was written. */
  private readonly drops = new Map<number, number>();
  private blamesThePacket = true;

  constructor(
    private readonly client: MqttClient,
    private readonly refused: (error: PublishRefusedError, messageId: number) => void,
  ) {
    client.on('packetsend', (packet) => this.sent(packet));
    client.on('packetreceive', (packet) => this.received(packet));
    client.on('close', () => this.closed());
  }

  private sent(packet: Packet): void {
    if (packet.cmd !== 'publish' || packet.qos === 0 || packet.messageId === undefined) return;
    this.written.set(packet.messageId, { topic: packet.topic, at: Date.now() });
  }

  private received(packet: Packet): void {
    if (packet.cmd === 'disconnect') {
      this.blamesThePacket = !NOT_THE_PACKET.has(packet.reasonCode ?? 0);
      return;
    }
    if (packet.cmd !== 'puback' && packet.cmd !== 'pubrec' && packet.cmd !== 'pubcomp') return;
    if (packet.messageId === undefined) return;
    // Any answer, even a refusing reason code: the broker took the packet as well-formed.
    this.written.delete(packet.messageId);
    this.drops.delete(packet.messageId);
  }

  private closed(): void {
    const now = Date.now();
    // Our own end() closes too; and a reason code that blames the server convicts nothing.
    const suspects = this.blamesThePacket && !this.client.disconnecting ? [...this.written] : [];
    this.written.clear();
    this.blamesThePacket = true;
    for (const id of this.drops.keys()) if (this.client.outgoing[id] === undefined) this.drops.delete(id);
    for (const [id, { topic, at }] of suspects) {
      if (now - at > RIGHT_AFTER_MS) {
        this.drops.delete(id);
        continue;
      }
      const drops = (this.drops.get(id) ?? 0) + 1;
      if (drops < DROPS_BEFORE_REFUSAL) {
        this.drops.set(id, drops);
        continue;
      }
      this.drops.delete(id);
      const error = new PublishRefusedError(
        'broker_disconnect',
        topic,
        `the broker closed the connection right after this publish, ${drops} times in a row, without acknowledging it`,
      );
      dropOutgoing(this.client, id, error);
      this.refused(error, id);
    }
  }
}
