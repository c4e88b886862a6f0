import { realClock, type Clock } from '../io/clock.js';

interface Window {
  count: number;
  startedAt: number;
}

/** Most keys tracked at once; past it the oldest windows are forgotten (memory stays bounded). */
const MAX_KEYS = 100_000;

/**
 * Back-off on failed authentications: at most `limit` failures per key (a charge-point id, a
 * client address) in a fixed window; past it every attempt for that key is refused without
 * being verified until the window ends. A success forgets the key's failures.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  private current(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window === undefined) return undefined;
    if (this.clock.now() - window.startedAt < this.windowMs) return window;
    this.windows.delete(key);
    return undefined;
  }

  blocked(key: string): boolean {
    return (this.current(key)?.count ?? 0) >= this.limit;
  }

  fail(key: string): void {
    const window = this.current(key);
    if (window !== undefined) {
      window.count += 1;
      return;
    }
    if (this.windows.size >= MAX_KEYS) {
      const oldest = this.windows.keys().next();
      if (oldest.done !== true) this.windows.delete(oldest.value);
    }
    this.windows.set(key, { count: 1, startedAt: this.clock.now() });
  }

  succeed(key: string): void {
    this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }
}
