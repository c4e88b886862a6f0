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
 * - The MQTT link closed (session taken over, or the broker out of reach too): parked messages
 *   are dropped; the broker redelivers them to whoever holds the session next.
 * - Lapsed longer than `maxParkMs` (Redis away for every node, so nobody adopts): parking stops
 *   and the messages go on without Redis, as they would have before.
 */
export class LapseGate {
  private parked: { retry: () => void; dropped: (() => void) | undefined }[] = [];
  private since = 0;
  private released = false;
  /** Counts link closes while lapsed: see {@link leftSince}. */
  private closes = 0;
  /**
   * {@link closes} when liveness was last back: a close since then means what still comes back
   * from Redis is the broker's to redeliver.
   */
  private closesWhenBack = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set by the link's owner: resolves once the link is known alive or closed (see {@link back}). */
  private confirmLink: (() => Promise<unknown>) | undefined;
  /** Liveness is back, and the link not yet known to have outlived the lapse. */
  private confirming = false;

  constructor(
    private readonly liveness: SelfLiveness,
    private readonly maxParkMs: number,
    private readonly metrics: PartitionMetrics,
    private readonly log: Logger,
  ) {
    liveness.onBack(() => this.back());
  }

  /** How the gate learns, once liveness is back, that the link outlived the lapse (link-guard.ts probe). */
  confirmLinkWith(confirm: () => Promise<unknown>): void {
    this.confirmLink = confirm;
  }

  /**
   * Liveness is back. An adopter may have taken the session during the lapse, and the broker's
   * close of our connection can reach us after this moment: a chaos run's routing node went on
   * with what it had parked 111 ms before its link reported the close, and wrote 1,332 commands
   * the adopter also wrote (docs §5.13). So parked messages wait until the link has answered a
   * ping (or closed: that close still counts as one while lapsed).
   */
  private back(): void {
    this.released = false;
    const resume = (): void => {
      this.confirming = false;
      this.closesWhenBack = this.closes;
      this.flush();
    };
    if (this.confirmLink === undefined) return resume();
    this.confirming = true;
    void this.confirmLink().then(resume, resume);
  }

  /**
   * Parks `retry` when the node is lapsed, or when `error` says Redis did not answer in time
   * (silence, unlike a refused or closed connection, may be a partition of this node alone, and
   * a command sent into it may still be executed when it heals); false means "go on now".
   * `dropped` runs instead of `retry` if the message is left behind (a forwarded command, which
   * no broker redelivers: its sender is told it was not written).
   */
  park(retry: () => void, error?: unknown, dropped?: () => void): boolean {
    const silent = error instanceof Error && error.message === 'Command timed out';
    if (this.released || (!this.liveness.lapsed && !this.confirming && !silent)) return false;
    if (this.leftSince(this.closesWhenBack)) {
      this.metrics.count('parked_dropped');
      dropped?.();
      return true;
    }
    if (this.parked.length === 0) {
      this.since = Date.now();
      this.timer = setTimeout(() => this.release(), this.maxParkMs);
      this.timer.unref();
      // Redis answers a beat again (before any lapse, or after it): go on.
      void this.liveness.confirmed().then(() => this.flush());
    }
    this.parked.push({ retry, dropped });
    this.metrics.count('parked');
    return true;
  }

  /** Read when a message arrives from the link (its `Delivery.linkEpoch`). */
  get epoch(): number {
    return this.closes;
  }

  /**
   * Whether the link closed while lapsed since `epoch` was read: the broker hands what the link had
   * delivered to whoever holds the session next, in order, so none of it is written or forwarded
   * here any more, even once liveness is back (a chaos run: 57 reordered, docs §5.13). A message
   * without an epoch (not from the node's own link) never is.
   */
  leftSince(epoch: number | undefined): boolean {
    return epoch !== undefined && epoch !== this.closes;
  }

  /** The link that delivered the parked messages closed: the broker redelivers them. */
  dropAll(): void {
    if (this.liveness.lapsed || this.confirming) this.closes += 1;
    if (this.parked.length === 0) return;
    this.log.warn({ messages: this.parked.length }, 'parked messages left to the broker to redeliver');
    const parked = this.parked;
    this.parked = [];
    clearTimeout(this.timer);
    for (const { dropped } of parked) {
      this.metrics.count('parked_dropped');
      dropped?.();
    }
  }

  private release(): void {
    if (!this.liveness.lapsed) return;
    this.released = true;
    this.log.warn(
      { messages: this.parked.length, ms: Date.now() - this.since },
      'liveness lapsed and nobody adopted the session: parked messages go on without Redis',
    );
    this.flush();
  }

  private flush(): void {
    // Liveness back, link not yet confirmed: back() flushes once it is.
    if (this.confirming) return;
    clearTimeout(this.timer);
    const parked = this.parked;
    this.parked = [];
    for (const { retry } of parked) retry();
  }
}
