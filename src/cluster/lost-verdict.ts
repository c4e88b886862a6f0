import type { Clock } from '../io/clock.js';
import type { PartitionMetrics } from '../observability/partition-metrics.js';
import type { Forwarded, LostVerdictJudge } from './router-types.js';
import { forwardFence, type SentMarks } from './sent-marks.js';

/**
 * The sender's `node_lost` verdict on a CALL it forwarded (docs/architecture.md §5.13). The owner
 * was judged dead because its liveness key expired; it may only be cut off, and a command that
 * reached it may still be written when the cut heals (parked for its written-mark, say). So the
 * sender first fences the command's mark, atomically with the owner's take of it:
 *
 * - fenced (nobody took the mark): the owner will never write it; `node_lost` now;
 * - held (the owner took it: written, or about to be), or Redis did not answer: the owner may
 *   still report the outcome (it retries its `done` up to the route timeout), so `node_lost`
 *   waits for the command's route deadline; a `done` or `stale` before that ends it as usual.
 */
export class LostVerdict implements LostVerdictJudge {
  constructor(
    private readonly marks: SentMarks,
    /** This node: the sender named in the fence. */
    private readonly nodeId: string,
    private readonly routeTimeoutMs: number,
    private readonly metrics: PartitionMetrics,
    /** The router's clock (its entries' `startedAt` and timers). */
    private readonly clock: Clock,
  ) {}

  /**
   * Judges one pending entry; `fail` answers it `node_lost` (a no-op once it has ended), and
   * `pending` says whether it is still waiting.
   */
  judge(entry: Forwarded, ref: number, pending: () => boolean, fail: () => void): void {
    const { cid, message } = entry;
    void this.marks.fence(cid, message.uniqueId, forwardFence(this.nodeId, ref)).then((result) => {
      if (result === 'fenced') {
        fail();
        return;
      }
      if (!pending()) return;
      this.metrics.count('lost_verdict_held');
      this.clock.clearTimeout(entry.timer);
      const left = entry.startedAt + this.routeTimeoutMs - this.clock.now();
      entry.timer = this.clock.setTimeout(fail, Math.max(0, left));
    });
  }
}
