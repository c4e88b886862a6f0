/**
 * A map of recent keys, bounded in age and in count: an entry lives `ttlMs` from when it was set,
 * and beyond `max` entries the oldest go first. Expired entries are dropped as new ones come (the
 * Map keeps insertion order, so the scan stops at the first live one) and when read.
 *
 * What the cluster keeps about commands for a while and must never let grow without a bound:
 * the writes a node made (cluster/local-writes.ts), the places of commands given back to the
 * broker (cluster/released-places.ts).
 */
export class RecentMap<V> {
  /** key -> value and when it was set, oldest first. */
  private readonly entries = new Map<string, { readonly value: V; readonly at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Sets `key` as the newest entry, then forgets what is too old or too many. */
  set(key: string, value: V): void {
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { value, at: now });
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.max && now - entry.at <= this.ttlMs) break;
      this.entries.delete(oldest);
    }
  }

  /** The live value of `key`, if any (an expired one is dropped). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() - entry.at <= this.ttlMs) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** The live value of `key`, if any; the entry is gone afterwards either way. */
  take(key: string): V | undefined {
    const value = this.get(key);
    this.entries.delete(key);
    return value;
  }
}
