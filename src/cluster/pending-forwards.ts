import type { Clock } from '../io/clock.js';
import type { Forwarded } from './router-types.js';

/**
 * The routing node's forwards still waiting for their owner's `reply` envelope
 * (docs/architecture.md §5.5), by reference number: each has a deadline, and the gauge
 * `ocpp_gateway_route_pending` reads the count when scraped.
 */
export class PendingForwards {
  private readonly entries = new Map<number, Forwarded>();
  private nextRef = 0;

  constructor(
    private readonly clock: Clock,
    metrics: { followPending(read: () => number): void } | undefined,
  ) {
    metrics?.followPending(() => this.entries.size);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Files the forward under a new reference; `expired(ref)` runs at its deadline unless taken. */
  add(entry: Forwarded, deadlineMs: number, expired: (ref: number) => void): number {
    this.nextRef += 1;
    const ref = this.nextRef;
    entry.timer = this.clock.setTimeout(() => expired(ref), deadlineMs);
    this.entries.set(ref, entry);
    return ref;
  }

  get(ref: number): Forwarded | undefined {
    return this.entries.get(ref);
  }

  /** Removes the forward (its outcome came, or it ends here) and stops its deadline. */
  take(ref: number): Forwarded | undefined {
    const entry = this.entries.get(ref);
    if (entry === undefined) return undefined;
    this.entries.delete(ref);
    this.clock.clearTimeout(entry.timer);
    return entry;
  }

  /** The forwards addressed to one owner node, as a copy (the caller may take them). */
  heldBy(nodeId: string): Array<[number, Forwarded]> {
    return [...this.entries].filter(([, entry]) => entry.owner.nodeId === nodeId);
  }

  refs(): number[] {
    return [...this.entries.keys()];
  }
}
