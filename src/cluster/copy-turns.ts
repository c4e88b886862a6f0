import type { TakeTurn } from './take-order.js';

interface Kept {
  readonly turn: TakeTurn;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Take-line turns (take-order.ts) the owner keeps for the broker's copy of a command it gave back
 * (docs/architecture.md §5.14). A CALL whose MQTT link closed while this node was lapsed is not
 * written when its turn comes (owner-delivery.ts); its MQTT message is released, and when the
 * broker's copy had already come on the new connection, the inbox hands that copy out at once
 * (bridge/inbox.ts). Entering the take line at its end, the copy was written after a later CALL of
 * the same charge point that had come on the new connection meanwhile and was waiting behind the
 * original: a chaos run's order-keeping mode reordered 4 so (bench/RESULTS.md, run P, bu-1).
 * So the original's turn is kept, the line waits, and the copy runs in it.
 *
 * Bounded: a copy that does not come (its connection closed before it was handed out, or routed to
 * another owner) frees the turn after `waitMs`, and the line goes on.
 */
export class CopyTurns {
  /** `cid\nuniqueId` to the turn kept for its copy. */
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly waitMs: number,
    /** `ocpp_gateway_route_order_copy_turns_total` (order-metrics.ts), in cluster mode. */
    private readonly counted?: (outcome: 'taken' | 'expired') => void,
  ) {}

  /**
   * Keeps `turn` (a place at the head of the line, which the line waits on until it is run) for
   * the copy of `key`; run empty when no copy came in time. One kept under `key` before is freed.
   */
  keep(key: string, turn: TakeTurn): void {
    this.free(key);
    const timer = setTimeout(() => {
      if (this.kept.get(key)?.turn !== turn) return;
      this.counted?.('expired');
      this.free(key);
    }, this.waitMs);
    timer.unref?.();
    this.kept.set(key, { turn, timer });
  }

  /** The turn kept for `key`'s copy, once: a redelivered CALL takes it instead of a new place. */
  take(key: string, redelivered: boolean): TakeTurn | undefined {
    if (!redelivered || this.kept.size === 0) return undefined;
    const kept = this.kept.get(key);
    if (kept === undefined) return undefined;
    this.kept.delete(key);
    clearTimeout(kept.timer);
    this.counted?.('taken');
    return kept.turn;
  }

  /** Runs the turn kept for `key` empty, if any: the line goes on. */
  free(key: string): void {
    const kept = this.kept.get(key);
    if (kept === undefined) return;
    this.kept.delete(key);
    clearTimeout(kept.timer);
    kept.turn(() => undefined);
  }
}
