import type { MqttClient, Packet } from 'mqtt';
import type { Logger } from '../observability/logger.js';

import { encodePacket } from './packet-encoder.js';
import { inFlightOn, PACKET_ID_WINDOW } from './packet-ids.js';

const RESUMED = 'mqtt session resumed: PUBREL sent for every packet id not in flight';
/** MQTT 5 §3.14.2.1: the broker closes a connection whose client id another client took. */
export const SESSION_TAKEN_OVER = 0x8e;
/** How long publishing waits for the broker to answer the PUBRELs before it goes on anyway. */
const MAX_WAIT_MS = 10_000;

/**
 * Releases the QoS 2 publishes a resumed session holds that this client knows nothing of.
 *
 * A QoS 2 PUBLISH the broker answered with PUBREC stays in the session until its PUBREL (MQTT 5
 * §4.3.3). The sender keeps the PUBREL to send in its own memory: a gateway process killed, an
 * adopter that gave a session back (docs/architecture.md §5.13), a publish dropped from the store
 * leave such publishes behind for good, and the next connection to resume the session inherits
 * them. mosquitto 2.0 counts them against its Receive Maximum for that client (20 by default):
 * after a chaos run's `kill -9` left 5, the restarted node's publishes were refused with 0x97
 * Quota exceeded whenever it had 16 in flight, and waited out the back-off (publish-flow.ts;
 * bench/RESULTS.md, run P). When the broker restarts and restores the session, what exceeds the
 * maximum is restored as *queued*: a PUBREL for such a message is answered with PUBCOMP without
 * releasing it (mosquitto 2.0 looks for it among the in-flight ones only), its PUBREC comes later
 * for an id the client no longer holds, and it is never released. And their packet ids come round
 * again: a new PUBLISH under one replaces it unread. What they carry (a station's answer or CALL
 * the broker already acknowledged) does not reach the backend.
 *
 * So on the link's first CONNACK that resumes a session (Session Present 1, §3.2.2.1.1), and on
 * the first after another client took the session over, before anything else is written, this
 * client sends PUBREL for every packet id of the window (packet-ids.ts) it has nothing in flight
 * under. The broker releases each half-done publish once (delivered now, late: at least once, as a
 * command's second outcome after its `node_lost` reply) and answers the others with PUBCOMP (0x92
 * Packet Identifier not found in MQTT 5, §3.7.2.1), which mqtt.js ignores. 4 KB each way; the
 * ids in flight keep theirs. A process of a version before the window (ids anywhere in 1-65,535)
 * may have left some beyond it. New publishes (and re-subscriptions) wait
 * until the last PUBCOMP is in ({@link OrphanRelease.releasing}).
 */
export class OrphanRelease {
  /** The last packet id of the sweep in progress (its PUBCOMP ends it); 0 when none is. */
  private lastId = 0;
  /**
   * Whether the next CONNACK that resumes the session may find publishes of another connection:
   * the first of this link (another process, or the owner of an adopted session, had it), and
   * the first after a takeover. Across its own reconnects the link's store knows what it left.
   */
  private due = true;
  private startedAt = 0;
  private swept = 0;
  private deadline: NodeJS.Timeout | undefined;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly client: MqttClient,
    private readonly log: Logger,
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {
    client.on('packetreceive', (packet: Packet) => this.received(packet));
    client.on('close', () => {
      // Cut off before the broker answered them all: the next resuming CONNACK sweeps again.
      if (this.releasing) this.due = true;
      this.finish(false);
    });
    // MQTT 5 §3.14.2.1 0x8E: another client (an adopter, docs/architecture.md §5.13) took the
    // session over; what it left half done is in the session when this link resumes it.
    client.on('disconnect', (packet) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.due = true;
    });
  }

  /**
   * True from the resuming CONNACK until the broker answered the last PUBREL. Meanwhile no new
   * publish may take a packet id: the PUBCOMP answering the PUBREL under that id is still on its
   * way, and mqtt.js would take it for the new publish's (a PUBCOMP completes a pending PUBLISH
   * in mqtt.js 5), which the broker would then hold unreleased.
   */
  get releasing(): boolean {
    return this.lastId !== 0;
  }

  /** Runs `fn` now, or once the sweep in progress is answered (or its connection closed). */
  whenReleased(fn: () => void): void {
    if (this.releasing) this.waiting.push(fn);
    else fn();
  }

  /** Resolves once no sweep is in progress. */
  released(): Promise<void> {
    return new Promise((resolve) => this.whenReleased(resolve));
  }

  private received(packet: Packet): void {
    if (packet.cmd === 'pubcomp') {
      if (packet.messageId === this.lastId) this.finish(true);
      return;
    }
    if (packet.cmd !== 'connack' || (packet.reasonCode ?? 0) >= 0x80) return;
    const due = this.due;
    this.due = false;
    if (!due || packet.sessionPresent !== true) return;
    // 'packetreceive' comes before mqtt.js handles the CONNACK, so before it re-sends its store.
    const { bytes, lastId } = pubrelsExcept(inFlightOn(this.client));
    if (lastId === 0) return;
    this.client.stream.write(bytes);
    this.lastId = lastId;
    this.swept = bytes.length / 4;
    this.startedAt = performance.now();
    this.deadline = setTimeout(() => {
      this.log.warn(
        { waitedMs: this.maxWaitMs },
        'mqtt broker did not answer the session-resume PUBRELs; publishing anyway',
      );
      this.finish(false);
    }, this.maxWaitMs);
    this.deadline.unref();
  }

  /** `answered`: the last PUBCOMP came (not the deadline, nor the connection's end). */
  private finish(answered: boolean): void {
    if (this.lastId === 0) return;
    this.lastId = 0;
    const ms = Math.round(performance.now() - this.startedAt);
    this.log.info({ packetIds: this.swept, ms, answered }, RESUMED);
    clearTimeout(this.deadline);
    for (const fn of this.waiting.splice(0)) fn();
  }
}

/**
 * PUBREL packets for ids 1 to `maxId` but those `inFlight`, in id order, as one buffer; the last
 * id. Each is the 4-byte form (reason code 0 left out, §3.6.2.1), valid in 3.1.1 and MQTT 5.
 */
export function pubrelsExcept(
  inFlight: (id: number) => boolean,
  maxId = PACKET_ID_WINDOW,
): { bytes: Buffer; lastId: number } {
  const packets: Buffer[] = [];
  let lastId = 0;
  for (let id = 1; id <= maxId; id++) {
    if (inFlight(id)) continue;
    const packet = encodePacket({ cmd: 'pubrel', messageId: id, reasonCode: 0 }, 5);
    if (packet !== undefined) packets.push(packet);
    lastId = id;
  }
  return { bytes: Buffer.concat(packets), lastId };
}
