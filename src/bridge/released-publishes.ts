import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

/** Publishes a copy of `publish` as a new message (its own packet id), through the link's flow. */
export type Republish = (publish: IPublishPacket) => void;

/**
 * QoS 2 publishes the broker has answered with PUBREC and not yet with PUBCOMP, kept so that
 * they survive a broker that comes back without this client's session.
 *
 * After the PUBREC mqtt.js keeps only a PUBREL for such a publish (MQTT 5 §4.3.3) and sends that
 * again after a reconnect. A broker restarted without the session (killed, no persistence, the
 * session expired) has never seen the publish and completes the unknown PUBREL anyway (mosquitto
 * answers PUBCOMP): mqtt.js reports the publish delivered, and it is gone. An upstream CALL so
 * lost was neither published nor answered with a CALLERROR; its station waited for its timeout.
 * MQTT 5 §3.2.2.1.1 ([MQTT-3.2.2-5]): a client that finds Session Present 0 discards its session
 * state. What it had sent is then sent again as a new PUBLISH: the PUBREL waiting in the store is
 * put back to the PUBLISH it completes, before mqtt.js re-sends the store, so it keeps its place
 * and its callback. At least once, never none: a broker that passed the message on when it
 * received the PUBLISH (§4.3.3 allows either moment), or that took the PUBREL and stopped before
 * its PUBCOMP arrived, gets a second copy (docs/architecture.md §4.3).
 */
export class ReleasedPublishes {
  /** messageId -> the PUBLISH the broker acknowledged with PUBREC. */
  private readonly released = new Map<number, IPublishPacket>();
  /** QoS 2 PUBLISHes written and not answered yet: a PUBREC moves one to {@link released}. */
  private readonly written = new Map<number, IPublishPacket>();

  constructor(
    private readonly client: MqttClient,
    private readonly republish: Republish,
  ) {
    client.on('packetsend', (packet) => this.sent(packet));
    client.on('packetreceive', (packet) => this.received(packet));
  }

  private sent(packet: Packet): void {
    if (packet.cmd === 'publish' && packet.qos === 2 && packet.messageId !== undefined)
      this.written.set(packet.messageId, packet);
  }

  private received(packet: Packet): void {
    if (packet.cmd === 'pubrec') {
      const id = packet.messageId ?? -1;
      const publish = this.written.get(id);
      if (publish === undefined) {
        this.contradicted(id);
        return;
      }
      this.written.delete(id);
      // A refusing reason code ends the publish (mqtt.js fails it): nothing to keep.
      if ((packet.reasonCode ?? 0) < 0x80) this.released.set(id, publish);
    } else if (packet.cmd === 'pubcomp') {
      this.released.delete(packet.messageId ?? -1);
    } else if (packet.cmd === 'connack') {
      this.forgetEnded();
      if (packet.sessionPresent !== true) this.sessionLost();
    }
  }

  /**
   * A PUBREC for a publish the broker had already answered with PUBREC, whose PUBREL this client
   * resent on reconnecting (mqtt.js reports a protocol error and ignores it). MQTT 5 §4.4 has a
   * server resend PUBLISH and PUBREL on a resumed session, never PUBREC: the restarted broker holds
   * a QoS 2 message under this packet id awaiting its PUBREL. If it is ours (its state lost our
   * PUBREL), the resent PUBREL completes it; if it is an earlier message of ours under the same id
   * (the broker's saved session lagged what it did on the wire), that PUBREL completes the
   * earlier one, and ours was never passed on: the chaos suite's one loss of run N1 came with this
   * PUBREC (bench/RESULTS.md). Either way it is published again, as a new message: at least once,
   * never none (docs/architecture.md §4.3).
   */
  private contradicted(id: number): void {
    const publish = this.released.get(id);
    if (publish === undefined || this.client.outgoing[id]?.cmd !== 'pubrel') return;
    this.released.delete(id);
    this.republish(publish);
  }

  /** Publishes failed or ended meanwhile (a refusal, the link's end()): nothing to send again. */
  private forgetEnded(): void {
    for (const held of [this.written, this.released])
      for (const id of held.keys()) if (this.client.outgoing[id] === undefined) held.delete(id);
  }

  /** Runs before mqtt.js handles the CONNACK, so before it re-sends its store. */
  private sessionLost(): void {
    for (const publish of this.released.values())
      this.client.outgoingStore.put({ ...publish, dup: true }, () => undefined);
    this.released.clear();
  }
}
