/** FNV-1a (32 bit) of a message's topic and payload: tells the broker's copy from a new message. */
export function fingerprint(topic: string, payload: Buffer): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) hash = Math.imul(hash ^ topic.charCodeAt(i), 0x01000193);
  for (let i = 0; i < payload.length; i++) hash = Math.imul(hash ^ (payload[i] ?? 0), 0x01000193);
  return hash >>> 0;
}

/** An id's entry: none, PUBACKed on this connection, or on an earlier one of this session. */
const NONE = 0;
const CURRENT = 1;
const EARLIER = 2;

/**
 * Packet ids this client has PUBACKed, with the fingerprint of the message each acknowledged
 * (bridge/inbox.ts). The broker sends a message again only on a new connection, with DUP set
 * [MQTT-4.4.0-1] (mosquitto not always: below), and does so when it has not read our PUBACK:
 * sent just before a reconnect, it may have been read first; sent just before the connection
 * broke (the broker stopped after our PUBACK left and before it read it), it was lost. Either way
 * the copy is the message already handled, not a new one: a new message under a reused id would
 * have to carry the same topic and payload (the same command, UniqueId included). The DUP flag is
 * not asked: mosquitto stopped by SIGTERM can send a message after saving it as still queued, and
 * sends it again with DUP 0 once restarted (in-flight-ids.ts). At most one entry per id (65,535),
 * replaced when the id is acknowledged again.
 */
export class AckedIds {
  /**
   * Per packet id (1-65,535): {@link NONE}, {@link CURRENT} (read by the broker after anything it
   * sent before) or {@link EARLIER} (the last few may never have arrived). Two flat arrays instead
   * of Maps: one entry is written per downstream message and read per PUBLISH, and Maps that grow
   * to 65,535 keys cost about 1 % of a node's CPU there (bench/RESULTS.md, "Hot path").
   */
  private readonly state = new Uint8Array(65_536);
  private readonly prints = new Uint32Array(65_536);
  /** Ids in {@link state} other than NONE: a CONNACK with nothing acknowledged costs nothing. */
  private held = 0;

  /** A CONNACK: without the session the broker holds none of these messages any more. */
  connected(sessionPresent: boolean): void {
    if (this.held === 0) return;
    if (!sessionPresent) {
      this.state.fill(NONE);
      this.held = 0;
      return;
    }
    const state = this.state;
    for (let id = 0; id < state.length; id++) if (state[id] === CURRENT) state[id] = EARLIER;
  }

  sent(id: number, print: number): void {
    if (this.state[id] === NONE) this.held += 1;
    this.state[id] = CURRENT;
    this.prints[id] = print;
  }

  /**
   * What a PUBLISH under an acknowledged id is: `new` (handle it), `pending` (a copy; our PUBACK
   * on this connection answers it), or `lost` (a copy; our PUBACK went with the old connection
   * and must be sent again). Any PUBLISH under an id ends the id's entry.
   */
  classify(id: number, print: () => number): 'new' | 'pending' | 'lost' {
    const entry = this.state[id] ?? NONE;
    if (entry === NONE) return 'new';
    this.state[id] = NONE;
    this.held -= 1;
    if (this.prints[id] !== print()) return 'new';
    return entry === CURRENT ? 'pending' : 'lost';
  }
}
