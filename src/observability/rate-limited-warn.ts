import type { Logger } from './logger.js';

/**
 * A warning that may happen thousands of times a second (every command while Redis is away):
 * the first occurrence is logged at once, later ones at most once per interval, each line with
 * the number of occurrences since the last one. The metrics count every occurrence.
 */
export class RateLimitedWarn {
  private suppressed = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  note(err: unknown, fields: Record<string, unknown> = {}): void {
    this.suppressed += 1;
    const now = this.now();
    if (now - this.loggedAt < this.intervalMs) return;
    this.log.warn({ ...fields, err, occurrences: this.suppressed }, this.message);
    this.loggedAt = now;
    this.suppressed = 0;
  }
}
