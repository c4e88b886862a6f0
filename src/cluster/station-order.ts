import type { OrderMetrics } from '../observability/order-metrics.js';

/** Caps of the per-charge-point lines (docs/architecture.md §5.14). */
export interface OrderLimits {
  /** Messages one charge point may have in its line, the one in progress included. */
  readonly maxPerCp: number;
  /** Messages all lines of the node may hold together. */
  readonly maxTotal: number;
}

/**
 * Starts one message; `undefined` when it left at once (written locally, answered, parked), or a
 * promise that settles once it has left (published on the route bus, or answered).
 */
export type StartMessage<T> = (cid: string, item: T) => Promise<void> | undefined;

/** A message's arrival rank on this node: a message routed again takes its old place by it. */
export type RankOf<T> = (item: T) => number;

/**
 * The routing node's per-charge-point FIFO across the owner lookup (docs/architecture.md §5.14):
 * one message per charge point is in progress (looked up, then written locally or published on
 * the route bus); the next starts only once it has left, so a cache hit cannot overtake a lookup
 * still waiting on Redis. A line exists only while a message of its charge point is in progress:
 * a node routing for many charge points holds state only for those with a lookup in flight.
 *
 * With `rank`, a message that comes back (answered `stale`, its owner left) waits in its arrival
 * place, not at the end, and the one in progress can give way to it ({@link earlierWaiting}).
 */
export class StationOrder<T> {
  /** Per charge point; `[0]` is in progress, the rest wait in arrival order. */
  private readonly lines = new Map<string, T[]>();
  private held = 0;

  constructor(
    private readonly limits: OrderLimits,
    private readonly start: StartMessage<T>,
    private readonly metrics?: OrderMetrics,
    private readonly rank?: RankOf<T>,
  ) {}

  /** Messages held in all lines, those in progress included. */
  get size(): number {
    return this.held;
  }

  /** Charge points with a line. */
  get lineCount(): number {
    return this.lines.size;
  }

  /** A message of this charge point is in progress: a new one must wait behind it. */
  busy(cid: string): boolean {
    return this.lines.has(cid);
  }

  /**
   * Starts `item` if its charge point is idle, queues it otherwise; false: refused, a cap is
   * reached (counted by bound), and the caller answers it.
   */
  enter(cid: string, item: T): boolean {
    const line = this.lines.get(cid);
    if (line !== undefined && line.length >= this.limits.maxPerCp) return this.refuse('station');
    if (this.held >= this.limits.maxTotal) return this.refuse('node');
    this.count(1);
    if (line !== undefined) {
      this.place(line, item);
      this.metrics?.waited.inc();
      return true;
    }
    const fresh = [item];
    this.lines.set(cid, fresh);
    this.run(cid, fresh);
    return true;
  }

  /** A message that arrived before `item` waits in its line (it came back while `item` was in progress). */
  earlierWaiting(cid: string, item: T): boolean {
    const next = this.lines.get(cid)?.[1];
    return next !== undefined && this.rank !== undefined && this.rank(next) < this.rank(item);
  }

  /**
   * The message in progress gives way: it waits again in its arrival place, and the line goes on
   * with the earlier one when the caller's start settles. Not capped: it already held its place.
   */
  requeue(cid: string, item: T): void {
    const line = this.lines.get(cid);
    if (line === undefined) return;
    this.count(1);
    this.place(line, item);
  }

  /** Behind every waiting message ranked before it; never before the one in progress (`[0]`). */
  private place(line: T[], item: T): void {
    let at = line.length;
    const rank = this.rank;
    if (rank !== undefined) while (at > 1 && rank(line[at - 1] as T) > rank(item)) at -= 1;
    line.splice(at, 0, item);
  }

  /** Takes every message still waiting behind one in progress (shutdown answers them). */
  takeWaiting(): [string, T][] {
    const out: [string, T][] = [];
    for (const [cid, line] of this.lines) {
      for (const item of line.splice(1)) out.push([cid, item]);
    }
    this.held = this.lines.size;
    this.metrics?.held.set(this.held);
    return out;
  }

  /** A loop, not recursion: a long line of messages that leave at once does not grow the stack. */
  private run(cid: string, line: T[]): void {
    for (;;) {
      const head = line[0];
      if (head === undefined) {
        this.lines.delete(cid);
        return;
      }
      const leaving = this.start(cid, head);
      if (leaving !== undefined) {
        const next = (): void => this.left(cid, line);
        leaving.then(next, next);
        return;
      }
      this.drop(line);
    }
  }

  private left(cid: string, line: T[]): void {
    this.drop(line);
    this.run(cid, line);
  }

  private drop(line: T[]): void {
    line.shift();
    this.count(-1);
  }

  /** Messages held in all lines, and the gauge that reports them. */
  private count(delta: number): void {
    this.held += delta;
    this.metrics?.held.set(this.held);
  }

  private refuse(bound: 'station' | 'node'): false {
    this.metrics?.overflow.labels(bound).inc();
    return false;
  }
}
