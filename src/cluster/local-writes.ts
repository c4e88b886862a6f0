import { RecentMap } from '../io/recent-map.js';

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
  /** `cid\nuniqueId` of the writes (the value is unused). */
  private readonly written: RecentMap<true>;

  constructor(ttlMs: number, max: number, now: () => number = Date.now) {
    this.written = new RecentMap(ttlMs, max, now);
  }

  get size(): number {
    return this.written.size;
  }

  add(key: string): void {
    this.written.set(key, true);
  }

  /** Whether `key` was there (and unexpired); it is not any more. */
  take(key: string): boolean {
    return this.written.take(key) !== undefined;
  }

  has(key: string): boolean {
    return this.written.get(key) !== undefined;
  }
}
