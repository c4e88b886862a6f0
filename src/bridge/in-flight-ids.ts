/** One message handed out and not acknowledged yet: what tells the broker's copy of it apart. */
export interface InFlight {
  readonly id: number;
  readonly topic: string;
  readonly payload: Buffer;
  /**
   * The connection (bridge/inbox.ts counts them) on which the broker's copy of it came and was
   * joined to it: the broker sends no other copy before the next reconnect.
   */
  copiedOn?: number;
}

/**
 * The packet ids of the messages the inbox has handed out and not acknowledged yet
 * (bridge/inbox.ts), kept so that the broker's copy of one, sent again after a reconnect, is not
 * handled a second time.
 *
 * An id in flight does not make every PUBLISH under it a copy: a broker may reuse an id still
 * unacknowledged here. [MQTT-2.2.1-3] forbids it, but mosquitto takes the next of its 65,535 ids
 * without looking at what is in flight, so at 2,000 commands/s an id comes round again every 33 s,
 * while a command that waits for Redis or for its charge point can stay in flight longer. Taken
 * for a copy, such a new command was dropped and waited in the broker until the next reconnect,
 * and was then written after the station's later commands (the chaos run's 643- and 646-command
 * bursts, docs/architecture.md §5.14). So a copy is a PUBLISH with the topic and payload of a
 * message in flight under its id; several messages may be in flight under one id, each
 * acknowledged on its own.
 *
 * The DUP flag does not decide it. A copy should carry DUP 1 ([MQTT-3.3.1-1]), but mosquitto
 * stopped by SIGTERM can write a message to a client after it saved its persistence file with
 * the message still queued; restarted, it sends the message again as never sent, DUP 0 (a chaos
 * run: a command written twice, bench/RESULTS.md "Run M"). And an identical PUBLISH that really
 * is new is the same OCPP message again: OCPP-J ("The message ID", 1.6 and 2.0.1) gives every
 * CALL its own UniqueId, so the same topic and payload are the same command, already in hand.
 */
export class InFlightIds {
  private readonly byId = new Map<number, InFlight | InFlight[]>();

  /** Files a message handed out; {@link remove} it once acknowledged or released. */
  add(id: number, topic: string, payload: Buffer): InFlight {
    const entry: InFlight = { id, topic, payload };
    const present = this.byId.get(id);
    if (present === undefined) this.byId.set(id, entry);
    else this.byId.set(id, Array.isArray(present) ? [...present, entry] : [present, entry]);
    return entry;
  }

  remove(entry: InFlight): void {
    const present = this.byId.get(entry.id);
    if (present === entry) this.byId.delete(entry.id);
    else if (Array.isArray(present)) {
      const rest = present.filter((e) => e !== entry);
      if (rest.length === 0) this.byId.delete(entry.id);
      else this.byId.set(entry.id, rest.length === 1 ? (rest[0] as InFlight) : rest);
    }
  }

  /** Whether a PUBLISH is the broker's copy of a message in flight here. */
  isCopy(id: number, topic: string, payload: Buffer): boolean {
    return this.copyOf(id, topic, payload) !== undefined;
  }

  /** The message in flight that a PUBLISH is the broker's copy of, if any. */
  copyOf(id: number, topic: string, payload: Buffer): InFlight | undefined {
    const present = this.byId.get(id);
    if (present === undefined) return undefined;
    const same = (e: InFlight): boolean => e.topic === topic && e.payload.equals(payload);
    if (!Array.isArray(present)) return same(present) ? present : undefined;
    return present.find(same);
  }

  /** Whether any message is in flight under `id` (a PUBLISH that is no copy of it reuses the id). */
  has(id: number): boolean {
    return this.byId.has(id);
  }

  clear(): void {
    this.byId.clear();
  }
}
