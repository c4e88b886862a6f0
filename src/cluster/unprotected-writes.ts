/**
 * CALLs this node wrote to a charge point without a written-mark (docs/architecture.md §5.7,
 * §5.13): Redis could not take it, and the node was not lapsed, so it went on unprotected. Nothing
 * in Redis then says it was written, and the broker's copy of its MQTT message (DUP, after the
 * routing node's session was adopted before it could acknowledge, or after a hand-back) would be
 * written a second time: 184 commands in one chaos run's master failover. Remembered here, on the
 * node that wrote it, that copy is acknowledged instead, as one whose mark this run holds is.
 *
 * Bounded in time (as long as a finished mark lives) and in count (oldest forgotten first): a
 * Redis outage at thousands of commands a second is what fills it.
 */
export class UnprotectedWrites {
  /** `cid\nuniqueId` to when it was written, oldest first (a Map keeps insertion order). */
  private readonly writtenAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.writtenAt.size;
  }

  add(key: string): void {
    const now = this.now();
    this.writtenAt.delete(key);
    this.writtenAt.set(key, now);
    const oldest = now - this.ttlMs;
    for (const [first, at] of this.writtenAt) {
      if (this.writtenAt.size <= this.max && at >= oldest) break;
      this.writtenAt.delete(first);
    }
  }

  has(key: string): boolean {
    const at = this.writtenAt.get(key);
    if (at === undefined) return false;
    if (this.now() - at <= this.ttlMs) return true;
    this.writtenAt.delete(key);
    return false;
  }
}
