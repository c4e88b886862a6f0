import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../observability/logger.js';

/**
 * `ack` sends the PUBACK for a QoS 1 message (a no-op for QoS 0); call it once the message's
 * outcome is out. Until then the broker keeps the message in this client's session.
 */
export type MessageHandler = (
  topic: string,
  payload: Buffer,
  packet: IPublishPacket,
  ack: () => void,
) => void;

/** Handed to mqtt.js so that it skips its own PUBACK; we send ours when the outcome is known. */
export const DEFERRED_ACK = new Error('PUBACK deferred until the outcome is published');

interface PacketSender {
  readonly connected: boolean;
  _sendPacket(packet: { cmd: 'puback'; messageId: number }, done: () => void): void;
}

interface Early {
  readonly topic: string;
  readonly payload: Buffer;
  readonly packet: IPublishPacket;
}

function noop(): void {}

/**
 * Incoming PUBLISHes of one MQTT client, with the PUBACK deferred until the handler says the
 * message's outcome is published: a command's MQTT message is acknowledged only once it is
 * delivered or answered (docs/architecture.md §4.2). mqtt.js acknowledges as soon as its `customHandleAcks` callback runs
 * and handles incoming packets one at a time behind it, so holding that callback would stall the
 * whole connection; instead the callback gets {@link DEFERRED_ACK} (mqtt.js then skips the PUBACK
 * and emits that error, which the link ignores) and the PUBACK is sent here later.
 *
 * It exists before the client connects: a resumed session's messages arrive right after CONNACK,
 * possibly before anyone called {@link onMessage}; those wait here, unacknowledged.
 */
export class Inbox {
  private handler: MessageHandler | undefined;
  private early: Early[] = [];
  private unacked = 0;
  private client: MqttClient | undefined;
  /** PUBACKs due while the connection was down, sent in one loop once it is back. */
  private held: number[] = [];

  constructor(private readonly log: Logger) {}

  /** For `customHandleAcks` in the client options (QoS 1 and 2). */
  readonly customHandleAcks = (
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    done: (error: Error) => void,
  ): void => {
    this.receive(topic, payload, packet);
    done(DEFERRED_ACK);
  };

  /** Wires the client: QoS 0 messages come as plain 'message' events. */
  attach(client: MqttClient): void {
    this.client = client;
    // An 'error' event without a listener throws; DEFERRED_ACK is expected, and real errors are
    // logged by the link's own listeners.
    client.on('error', noop);
    client.on('message', (topic, payload, packet) => this.receive(topic, payload, packet));
    client.on('connect', (connack) => this.sendHeld(connack.sessionPresent));
    client.on('close', () => this.dropEarly());
  }

  /**
   * Messages that came before the handler was set, on a connection that closed since: never
   * handled nor acknowledged, so the broker sends them again to whoever holds the session next
   * (with DUP). Handing them out later would handle each twice: a restarted node whose resumed
   * session an adopter took over before the node was ready would write a queued command (DUP 0
   * here) after the adopter wrote its copy (docs/architecture.md §5.7, §5.8).
   */
  private dropEarly(): void {
    for (const m of this.early) if (m.packet.qos > 0) this.unacked -= 1;
    this.early = [];
  }

  /**
   * mqtt.js queues a PUBACK sent while disconnected and, on reconnect, sends its queue by a
   * recursion one level deep per packet: tens of thousands of acknowledgements that came due
   * while the broker was away (a node answering every command of a reconnect storm) overflowed
   * the stack and killed the node. They wait here instead and go out in a loop. Without the
   * session (`sessionPresent` false) the broker holds none of those messages any more and their
   * packet ids may be reused by new ones: nothing is sent [MQTT-4.4.0-1].
   */
  private sendHeld(sessionPresent: boolean): void {
    const held = this.held;
    this.held = [];
    const client = this.client as unknown as PacketSender | undefined;
    if (!sessionPresent || client === undefined) return;
    for (const messageId of held) client._sendPacket({ cmd: 'puback', messageId }, noop);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const m of early) this.dispatch(m.topic, m.payload, m.packet);
  }

  /** Messages handed out whose PUBACK has not been sent yet. */
  get unackedCount(): number {
    return this.unacked;
  }

  private receive(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (packet.qos > 0) this.unacked += 1;
    if (this.handler === undefined) this.early.push({ topic, payload, packet });
    else this.dispatch(topic, payload, packet);
  }

  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const ack = this.ackFor(packet);
    try {
      this.handler?.(topic, payload, packet, ack);
    } catch (error) {
      // A bug in one message's handling must not take the node down with every socket on it.
      this.log.error({ topic, err: error }, 'downstream handler failed');
    }
  }

  /**
   * A once-only PUBACK. mqtt.js's packet sender is private but stable across v5. A PUBACK sent
   * after a reconnect is still right: packet ids belong to the session (MQTT 5 §4.4), and the
   * broker redelivers with DUP whatever it did not see acknowledged. The link subscribes at QoS 1,
   * so no QoS 2 handshake is ever needed here.
   */
  private ackFor(packet: IPublishPacket): () => void {
    const messageId = packet.messageId;
    if (packet.qos === 0 || messageId === undefined) return noop;
    let sent = false;
    return () => {
      if (sent) return;
      sent = true;
      this.unacked -= 1;
      const client = this.client as unknown as PacketSender | undefined;
      if (client === undefined) return;
      if (client.connected) client._sendPacket({ cmd: 'puback', messageId }, noop);
      else this.held.push(messageId);
    };
  }
}
