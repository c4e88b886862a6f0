/** FNV-1a (32 bit) of a message's topic and payload: tells the broker's copy from a new message. */
export function fingerprint(topic: string, payload: Buffer): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) hash = Math.imul(hash ^ topic.charCodeAt(i), 0x01000193);
  for (let i = 0; i < payload.length; i++) hash = Math.imul(hash ^ (payload[i] ?? 0), 0x01000193);
  return hash >>> 0;
}

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
  /** PUBACKed on this connection: the broker reads them after anything it sent before. */
  private current = new Map<number, number>();
  /** PUBACKed on earlier connections of this session: the last few may never have arrived. */
  private earlier = new Map<number, number>();

  /** A CONNACK: without the session the broker holds none of these messages any more. */
  connected(sessionPresent: boolean): void {
    if (sessionPresent) for (const [id, print] of this.current) this.earlier.set(id, print);
    else this.earlier.clear();
    this.current.clear();
  }

  sent(id: number, print: number): void {
    this.current.set(id, print);
    this.earlier.delete(id);
  }

  /**
   * What a PUBLISH under an acknowledged id is: `new` (handle it), `pending` (a copy; our PUBACK
   * on this connection answers it), or `lost` (a copy; our PUBACK went with the old connection
   * and must be sent again). Any PUBLISH under an id ends the id's entry.
   */
  classify(id: number, print: () => number): 'new' | 'pending' | 'lost' {
    const now = this.current.get(id);
    const before = this.earlier.get(id);
    this.current.delete(id);
    this.earlier.delete(id);
    if (now === undefined && before === undefined) return 'new';
    const mine = print();
    if (now === mine) return 'pending';
    return before === mine ? 'lost' : 'new';
  }
}
