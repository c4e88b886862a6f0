import type { Logger } from '../observability/logger.js';

/**
 * This node's own liveness as its peers see it (docs/architecture.md §5.13). Peers judge a node
 * dead when its liveness key expires: at the earliest a node TTL after the last heartbeat that
 * Redis acknowledged was *sent*. A node cut off from Redis without its sockets closing (a
 * silent partition) learns it from its own failing beats (commands have a deadline), not from a
 * socket close. From one heartbeat before that earliest expiry the node counts as lapsed:
 *
 * - it writes no forwarded command any more (the sender may answer it `node_lost` any moment);
 * - its MQTT session may be adopted: if the broker hands it over, the link waits for
 *   {@link confirmed} before reconnecting, instead of taking it back from the adopter;
 * - once a beat succeeds again, the `back` handlers run: owner entries are re-asserted (peers
 *   deleted them as stale) and the MQTT link resumes.
 */
export class SelfLiveness {
  private lastOkSentAt = Date.now();
  private lapseReported = false;
  private readonly backHandlers: (() => void)[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly ttlMs: number,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {}

  /** Peers may judge this node dead now, or within one heartbeat. */
  get lapsed(): boolean {
    return Date.now() >= this.lastOkSentAt + this.ttlMs - this.heartbeatMs;
  }

  /** Runs whenever liveness is re-established after a lapse or an expired key. */
  onBack(handler: () => void): void {
    this.backHandlers.push(handler);
  }

  /** Resolves at the next beat Redis acknowledges while the node is not lapsed. */
  confirmed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A beat failed (no answer within the command deadline, or an error). */
  beatFailed(error: unknown): void {
    if (!this.lapsed || this.lapseReported) return;
    this.lapseReported = true;
    this.log.warn(
      { err: error, sinceMs: Date.now() - this.lastOkSentAt },
      'redis unreachable for a node TTL: peers judge this node dead; forwarded commands are not written',
    );
  }

  /**
   * A beat sent at `sentAt` was acknowledged; `expired`: the liveness key was gone when it was
   * written (peers may have judged this node dead, deleted its entries, adopted its session).
   */
  beatOk(sentAt: number, expired: boolean): void {
    const wasLapsed = this.lapsed;
    this.lastOkSentAt = sentAt;
    if (wasLapsed || expired) {
      this.lapseReported = false;
      this.log.warn({ expired }, 'liveness re-established after a lapse; re-asserting ownership');
      for (const handler of this.backHandlers) handler();
    }
    if (this.lapsed) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
