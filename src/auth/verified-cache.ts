import { createHash, timingSafeEqual } from 'node:crypto';
import { realClock, type Clock } from '../io/clock.js';
import type { SecurityProfile } from './record.js';

interface Entry {
  readonly digest: Buffer;
  readonly profile: SecurityProfile;
  readonly expiresAt: number;
}

const MAX_ENTRIES = 200_000;
/** Expired entries one get or set removes at most, so a call after a quiet spell stays cheap. */
const SWEEP_MAX = 256;

/**
 * Credentials verified in the last `ttlMs`, by charge point: a station that reconnects with the
 * same secret is accepted without asking the store (Redis, the webhook) again, which is what
 * keeps a reconnect storm cheap. Only successes enter, so failed attempts cannot fill it; the
 * presented secret is held as its SHA-256, never in clear.
 *
 * Expired entries leave on use: every entry lives `ttlMs` and `set` re-inserts, so the map's
 * insertion order is expiry order and each get or set drops expired entries from its head (up
 * to SWEEP_MAX). Without that, a station that never came back stayed until MAX_ENTRIES pushed
 * it out. No timer: with no authentications the map does not grow.
 */
export class VerifiedCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  static digest(secret: Buffer): Buffer {
    return createHash('sha256').update(secret).digest();
  }

  /** The profile recorded when `digest` was verified for `cid`, if still fresh. */
  get(cid: string, digest: Buffer): SecurityProfile | undefined {
    this.sweep();
    const entry = this.entries.get(cid);
    if (entry === undefined) return undefined;
    if (this.clock.now() >= entry.expiresAt) {
      this.entries.delete(cid);
      return undefined;
    }
    return timingSafeEqual(entry.digest, digest) ? entry.profile : undefined;
  }

  set(cid: string, digest: Buffer, profile: SecurityProfile): void {
    if (this.ttlMs === 0) return;
    this.sweep();
    this.entries.delete(cid);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(cid, { digest, profile, expiresAt: this.clock.now() + this.ttlMs });
  }

  /** The station's credentials changed (rotation, profile, the operator): verify again. */
  invalidate(cid: string): void {
    this.entries.delete(cid);
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const now = this.clock.now();
    let budget = SWEEP_MAX;
    for (const [cid, entry] of this.entries) {
      if (budget === 0 || now < entry.expiresAt) return;
      this.entries.delete(cid);
      budget--;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
