import type { Logger } from '../observability/logger.js';
import type { PartitionMetrics } from '../observability/partition-metrics.js';
import type { SelfLiveness } from './self-liveness.js';

/**
 * Downstream messages parked while this node's liveness has lapsed (docs/architecture.md §5.13).
 * Peers may judge the node dead and a survivor adopt its MQTT session at any moment: the broker
 * then hands every message this node has not acknowledged to the adopter. Whatever the node did
 * with such a message meanwhile would be done twice: a command written here (without a
 * written-mark, Redis being out of reach) would be written again, an error reply published here
 * would contradict the adopter's answer. So while lapsed, a message that needs Redis is parked:
 * not written, not answered, not acknowledged.
 *
 * - Liveness back: each parked message is routed again from the start.
 * - The MQTT link closed (session taken over, or the broker out of reach too): messages parked
 *   before any Redis step are dropped; the broker redelivers them to whoever holds the session
 *   next. Those parked for their written-mark ({@link hold}) stay: see there.
 * - Lapsed longer than `maxParkMs` (Redis away for every node, so nobody adopts): parking stops
 *   and the messages go on without Redis, as they would have before. Not once the link closed
 *   while lapsed: an adopter may be answering the same messages (held ones wait for the beat).
 */
export class LapseGate {
  private parked: { retry: () => void; dropped: (() => void) | undefined; kept: boolean }[] = [];
  private since = 0;
  private released = false;
  /** The link closed while lapsed: what still comes back from Redis is the broker's to redeliver. */
  private dropping = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly liveness: SelfLiveness,
    private readonly maxParkMs: number,
    private readonly metrics: PartitionMetrics,
    private readonly log: Logger,
  ) {
    liveness.onBack(() => {
      this.released = false;
      this.dropping = false;
      this.flush();
    });
  }

  /**
   * Parks `retry` when the node is lapsed, or when `error` says Redis did not answer in time
   * (silence, unlike a refused or closed connection, may be a partition of this node alone, and
   * a command sent into it may still be executed when it heals); false means "go on now".
   * `dropped` runs instead of `retry` if the message is left behind (a forwarded command, which
   * no broker redelivers: its sender is told it was not written).
   */
  park(retry: () => void, error?: unknown, dropped?: () => void): boolean {
    if (!this.parks(error)) return false;
    if (this.dropping) {
      this.metrics.count('parked_dropped');
      dropped?.();
      return true;
    }
    this.add(retry, dropped, false);
    return true;
  }

  /**
   * Parks, as {@link park} does, a CALL waiting for its written-mark in its charge point's take
   * line (owner-delivery.ts), but keeps it through a link close: it is retried once a beat is
   * acknowledged, never dropped. Its charge point's later CALLs may have taken their marks while
   * it waited, and they wait behind it; dropped, it came back with the broker's redelivery after
   * they were written (the chaos run's order-keeping mode, §5.14). Kept, it stays safe: its mark
   * decides on the retry. An adopter that answered the broker's copy `node_lost` fenced that mark
   * (§5.13), so it is not written; a copy routed to this node meanwhile joined it here
   * (owner-delivery.ts); the broker's copy on this node's next link is the inbox's copy of a
   * message in hand (bridge/inbox.ts), answered by this one.
   */
  hold(retry: () => void, error?: unknown): boolean {
    if (!this.parks(error)) return false;
    this.add(retry, undefined, true);
    return true;
  }

  private parks(error: unknown): boolean {
    const silent = error instanceof Error && error.message === 'Command timed out';
    return !this.released && (this.liveness.lapsed || silent);
  }

  private add(retry: () => void, dropped: (() => void) | undefined, kept: boolean): void {
    if (this.parked.length === 0) {
      this.since = Date.now();
      this.timer = setTimeout(() => this.release(), this.maxParkMs);
      this.timer.unref();
      // Redis answers a beat again (before any lapse, or after it): go on.
      void this.liveness.confirmed().then(() => this.flush());
    }
    this.parked.push({ retry, dropped, kept });
    this.metrics.count('parked');
  }

  /** The link that delivered the parked messages closed: the broker redelivers them. */
  dropAll(): void {
    if (this.liveness.lapsed) {
      this.dropping = true;
      clearTimeout(this.timer);
    }
    const left = this.parked.filter((entry) => !entry.kept);
    if (left.length === 0) return;
    this.parked = this.parked.filter((entry) => entry.kept);
    if (this.parked.length === 0) clearTimeout(this.timer);
    this.log.warn(
      { messages: left.length, kept: this.parked.length },
      'parked messages left to the broker to redeliver',
    );
    for (const { dropped } of left) {
      this.metrics.count('parked_dropped');
      dropped?.();
    }
  }

  private release(): void {
    if (!this.liveness.lapsed || this.dropping) return;
    this.released = true;
    this.log.warn(
      { messages: this.parked.length, ms: Date.now() - this.since },
      'liveness lapsed and nobody adopted the session: parked messages go on without Redis',
    );
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    const parked = this.parked;
    this.parked = [];
    for (const { retry } of parked) retry();
  }
}
