/**
 * CALLs this node run wrote to a charge point (docs/architecture.md §5.7), kept beside their
 * written-marks in Redis for when Redis no longer has them:
 * - written without a mark (§5.13): Redis could not take it and the node was not lapsed, so it
 *   went on unprotected (184 commands written twice in one chaos run's master failover);
 * - written with a mark that Redis lost since: every Redis node restarted empty, or the master
 *   holding it failed before replicating it (108 written twice in one Redis-fault chaos run, all
 *   commands whose PUBACK the routing node had not sent when its session was adopted).
 * The broker's copy of such a command (DUP, after the routing node's session was adopted before it
 * could acknowledge, or after a hand-back) reaching this node is then acknowledged instead of
 * written again, as one whose mark this run holds is.
 *
 * Bounded in time (as long as a finished mark lives) and in count (oldest forgotten first): at
 * 2,000 commands/s and a 30 s done TTL it holds 60,000 keys, about 6 MB.
 */
export class LocalWrites {
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

  /** Whether `key` was there (and unexpired); it is not any more. */
  take(key: string): boolean {
    const present = this.has(key);
    this.writtenAt.delete(key);
    return present;
  }

  has(key: string): boolean {
    const at = this.writtenAt.get(key);
    if (at === undefined) return false;
    if (this.now() - at <= this.ttlMs) return true;
    this.writtenAt.delete(key);
    return false;
  }
}
