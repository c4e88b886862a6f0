import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Release } from '../ocpp/message.js';
import type { Logger } from '../observability/logger.js';
import { AckedIds, fingerprint } from './acked-ids.js';
import { InFlightIds, type InFlight } from './in-flight-ids.js';
import { RateLimitedWarn } from '../observability/rate-limited-warn.js';

/**
 * `ack` sends the PUBACK for a QoS 1 message (a no-op for QoS 0) once its outcome is out; until
 * then the broker keeps it in this client's session. `release` instead leaves it to the broker
 * unhandled (see {@link Inbox}); both are once-only and exclusive.
 */
export type MessageHandler = (
  topic: string,
  payload: Buffer,
  packet: IPublishPacket,
  ack: () => void,
  release: Release,
) => void;

/** Handed to mqtt.js so that it skips its own PUBACK; we send ours when the outcome is known. */
export const DEFERRED_ACK = new Error('PUBACK deferred until the outcome is published');

interface PacketSender {
  readonly connected: boolean;
  _sendPacket(packet: { cmd: 'puback'; messageId: number }, done: () => void): void;
}

type Early = Readonly<{ topic: string; payload: Buffer; packet: IPublishPacket }>;

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
 *
 * Each message is handled once per session. After a reconnect the broker sends every message it
 * has no PUBACK for again, under the same packet id with DUP 1 ([MQTT-4.4.0-1], [MQTT-3.3.1-1]),
 * among them messages still in the handler's hands: answered, with the answer waiting to be
 * published behind thousands of others, or written to a charge point that has not replied yet.
 * Handled a second time, such a command was routed and written after the charge point's later
 * commands (docs/architecture.md §5.14). So the broker's copy of a message still being handled
 * (DUP 1, its id, topic and payload: in-flight-ids.ts, which also explains why the id alone does
 * not tell) is not handed out again, and the first copy's `ack` sends the one PUBACK both need. A
 * handler that gives a message up unanswered (parked, then its link closed, docs/architecture.md
 * §5.13) calls `release`, and the broker's next copy is handled anew: at once if that copy already
 * came and was joined to it.
 */
export class Inbox {
  private handler: MessageHandler | undefined;
  private early: Early[] = [];
  private unacked = 0;
  private client: MqttClient | undefined;
  /** PUBACKs due while the connection was down, sent in one loop once it is back. */
  private held: { entry: InFlight; print: number }[] = [];
  /** Messages handed to the handler whose PUBACK has not been sent, in this broker session. */
  private readonly handling = new InFlightIds();
  private readonly reused: RateLimitedWarn;
  /** Ids PUBACKed, so that the broker's copy of a message whose PUBACK it missed is not handled. */
  private readonly acked = new AckedIds();
  /** Counts broker sessions: an `ack` or `release` from an earlier one has nothing left to do. */
  private session = 0;
  /** Counts CONNACKs: a copy joined on the current connection is the broker's last before a reconnect. */
  private connection = 0;

  constructor(private readonly log: Logger) {
    this.reused = new RateLimitedWarn(
      log,
      'broker reused a packet id still unacknowledged here: handled as a new message (in-flight-ids.ts)',
      10_000,
    );
  }

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
    // At the CONNACK itself: mqtt.js emits 'connect' only after re-sending its own stored
    // publishes, and the broker's redeliveries may be read before that.
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack' && (packet.reasonCode ?? packet.returnCode ?? 0) === 0)
        this.sessionStarted(packet.sessionPresent);
    });
    client.on('connect', () => this.sendHeld());
    client.on('close', () => this.dropEarly());
  }

  /**
   * Without the session (`sessionPresent` false) the broker holds none of the messages handed out
   * before and their packet ids may be reused by new ones [MQTT-4.4.0-1]: nothing is joined to
   * them, and their PUBACKs are not sent.
   */
  private sessionStarted(sessionPresent: boolean): void {
    this.connection += 1;
    this.acked.connected(sessionPresent);
    if (sessionPresent) return;
    this.session += 1;
    this.handling.clear();
    this.held = [];
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
   * the stack and killed the node. They wait here instead and go out in a loop. Their ids stay
   * in {@link handling} until then, so the broker's copies read meanwhile are not handled again.
   */
  private sendHeld(): void {
    const held = this.held;
    this.held = [];
    const client = this.client as unknown as PacketSender | undefined;
    if (client === undefined) return;
    for (const { entry, print } of held) this.puback(client, entry.id, print, entry);
  }

  private puback(client: PacketSender, messageId: number, print: number, entry?: InFlight): void {
    if (entry !== undefined) this.handling.remove(entry);
    this.acked.sent(messageId, print);
    client._sendPacket({ cmd: 'puback', messageId }, noop);
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
    const id = packet.qos > 0 ? packet.messageId : undefined;
    if (id !== undefined) {
      // The broker's copy of a message still being handled here: the first copy answers for both.
      const first = this.handling.copyOf(id, topic, payload);
      if (first !== undefined) {
        first.copiedOn = this.connection;
        return;
      }
      if (this.handling.has(id)) this.reused.note(undefined, { id, topic });
      // Or of one already acknowledged whose PUBACK the broker had not read: sent again if lost.
      const copy = this.acked.classify(id, () => fingerprint(topic, payload));
      const client = this.client as unknown as PacketSender | undefined;
      if (copy === 'lost' && client !== undefined) this.puback(client, id, fingerprint(topic, payload));
      if (copy !== 'new') return;
    }
    if (packet.qos > 0) this.unacked += 1;
    if (this.handler === undefined) this.early.push({ topic, payload, packet });
    else this.dispatch(topic, payload, packet);
  }

  /** The broker's copy of a released message, read earlier on the connection still open. */
  private handOutCopy(entry: InFlight, packet: IPublishPacket, session: number): void {
    if (session !== this.session || entry.copiedOn !== this.connection || this.client?.connected !== true)
      return; // the broker sends it again on the next connection
    this.unacked += 1;
    this.dispatch(entry.topic, entry.payload, { ...packet, dup: true });
  }

  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const { ack, release } = this.completionsFor(topic, payload, packet);
    try {
      this.handler?.(topic, payload, packet, ack, release);
    } catch (error) {
      // A bug in one message's handling must not take the node down with every socket on it.
      this.log.error({ topic, err: error }, 'downstream handler failed');
    }
  }

  /**
   * A once-only PUBACK, or a once-only release. mqtt.js's packet sender is private but stable
   * across v5. A PUBACK sent after a reconnect is still right: packet ids belong to the session
   * (MQTT 5 §4.4), and the broker redelivers with DUP whatever it did not see acknowledged. The
   * link subscribes at QoS 1, so no QoS 2 handshake is ever needed here.
   */
  private completionsFor(
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
  ): { ack: () => void; release: Release } {
    const messageId = packet.qos === 0 ? undefined : packet.messageId;
    if (messageId === undefined) return { ack: noop, release: () => false };
    const entry = this.handling.add(messageId, topic, payload);
    const session = this.session;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      this.unacked -= 1;
      return session === this.session;
    };
    const ack = (): void => {
      if (!finish()) return;
      const client = this.client as unknown as PacketSender | undefined;
      const print = fingerprint(topic, payload);
      if (client?.connected === true) this.puback(client, messageId, print, entry);
      else this.held.push({ entry, print });
    };
    const release = (): boolean => {
      if (!finish()) return false;
      this.handling.remove(entry);
      // Its copy came and was joined to it on this connection: no other comes before a reconnect
      // (left so, it waits unhandled in the session: docs/architecture.md §5.14). It goes out now.
      const copied = entry.copiedOn === this.connection;
      if (copied) queueMicrotask(() => this.handOutCopy(entry, packet, session));
      return copied;
    };
    return { ack, release };
  }
}
