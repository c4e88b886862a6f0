import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { Ack, Delivery, DownstreamMessage } from '../ocpp/message.js';
import type { Session } from '../edge/session/session.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { LapseGate } from './lapse-gate.js';
import { MARKS_UNAVAILABLE, type SentMarks } from './sent-marks.js';

/**
 * The owner's side of a downstream message: hands it to the session, after the written-mark
 * check for CALLs in cluster mode, so a redelivered command is not written twice
 * (docs/architecture.md §5.7).
 *
 * A redelivery of a command still in progress here joins it: one outcome acknowledges both.
 * A redelivery of a command this run already finished is acknowledged without a second answer.
 * One written by another (lost) run is answered `node_lost` instead of being sent again.
 */
export class OwnerDelivery {
  private readonly inProgress = new Map<string, Ack[]>();

  constructor(
    private readonly publisher: UpstreamPublisher,
    /** Cluster mode only: single-node delivery has no written-marks and no cluster metrics. */
    private readonly marks?: SentMarks,
    private readonly metrics?: ClusterMetrics,
    /** Parks a command whose mark cannot be taken while this node's liveness has lapsed. */
    private readonly gate?: LapseGate,
  ) {}

  deliver(session: Session, message: DownstreamMessage, delivery: Delivery): void {
    const { ack, redelivered } = delivery;
    const marks = this.marks;
    if (message.type !== 2 || marks === undefined) {
      session.deliver(message, ack);
      return;
    }
    const key = `${session.cid}\n${message.uniqueId}`;
    const joined = this.inProgress.get(key);
    if (joined !== undefined && redelivered) {
      this.metrics?.routed.labels('duplicate').inc();
      joined.push(ack);
      return;
    }
    // A fresh message reusing an id in progress is its own command; it is not tracked for joins.
    const waiting = joined === undefined ? [ack] : undefined;
    if (waiting !== undefined) this.inProgress.set(key, waiting);
    // The command's one completion, whichever way it ends: its own ack and every redelivery's.
    const ackAll = (): void => {
      if (waiting === undefined) {
        ack();
        return;
      }
      this.inProgress.delete(key);
      for (const joinedAck of waiting) joinedAck();
    };
    void marks.take(session.cid, message.uniqueId, redelivered).then((holder) => {
      if (holder === MARKS_UNAVAILABLE && this.gate !== undefined) {
        const gate = this.gate;
        const retry = (): void => {
          if (waiting !== undefined) this.inProgress.delete(key);
          this.deliver(session, message, { ack: ackAll, redelivered });
        };
        // docs/architecture.md §5.13: written here without a mark, it could be written again by an adopter.
        if (gate.park(retry, marks.lastError)) return;
        marks.writingUnprotected();
      }
      if (holder === undefined || holder === MARKS_UNAVAILABLE) {
        session.deliver(message, () => {
          marks.finished(session.cid, message.uniqueId);
          ackAll();
        });
      } else if (holder === marks.writer) {
        // Written by this run, and its outcome was published when it ended.
        this.metrics?.routed.labels('duplicate').inc();
        ackAll();
      } else {
        const node = holder.split('|')[0] ?? holder;
        this.publisher.gatewayError({
          cid: session.cid,
          uniqueId: message.uniqueId,
          action: message.action,
          reason: 'node_lost',
          errorCode: session.version.errorCodes.generic,
          description: `command was written to the charge point by node ${node}, lost before its answer; not sent again`,
          ack: ackAll,
        });
      }
    });
  }
}
