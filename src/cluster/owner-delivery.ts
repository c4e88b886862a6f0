import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import { withdrawn, type Ack, type Delivery, type DownstreamMessage, type Release } from '../ocpp/message.js';
import type { Session } from '../edge/session/session.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { LapseGate } from './lapse-gate.js';
import { isFence, MARKS_UNAVAILABLE, type SentMarks } from './sent-marks.js';
import { TUNING } from '../config/tuning.js';
import { CopyTurns } from './copy-turns.js';
import { headTurn, TakeOrder, type TakeTurn } from './take-order.js';

/**
 * A command forwarded by another node (docs/architecture.md §5.13): its sender may fence the mark
 * and answer `node_lost` while it cannot hear from us; found fenced, the command is not written.
 */
export interface ForwardedWrite {
  /** forwardFence(sender, ref) of this `deliver`. */
  readonly fence: string;
  /** Not written: fenced by its sender, or parked and left behind; answers the sender `stale`. */
  refuse(why: 'fenced' | 'dropped'): void;
  /**
   * An earlier command of its charge point was refused after this one came, and is not back yet
   * (stale-lines.ts): written now, this one would reach the station first.
   */
  overtakes(): boolean;
}

/**
 * The `node_lost` description of a redelivered CALL whose written-mark another run holds
 * (docs/architecture.md §5.7): a fence means another forward of it was answered `node_lost` by
 * its sender, unwritten (§5.13), so it is not written now either; a writer means another node
 * run wrote it and was lost before its answer.
 */
export function lostWriteDescription(holder: string): string {
  return isFence(holder)
    ? 'command was answered node_lost before it was written; not sent'
    : `command was written to the charge point by node ${holder.split('|')[0] ?? holder}, lost before its answer; not sent again`;
}

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
  /** One charge point's CALLs reach its session in arrival order, however Redis answers (§5.14). */
  private readonly takes = new TakeOrder();
  /** Turns kept for the broker's copy of a command given back (copy-turns.ts). */
  private readonly copies: CopyTurns;

  constructor(
    private readonly publisher: UpstreamPublisher,
    /** Cluster mode only: single-node delivery has no written-marks and no cluster metrics. */
    readonly marks?: SentMarks,
    private readonly metrics?: ClusterMetrics,
    /** Parks a command whose mark cannot be taken while this node's liveness has lapsed. */
    private readonly gate?: LapseGate,
    copyWaitMs: number = TUNING.copyTurnMs,
  ) {
    this.copies = new CopyTurns(copyWaitMs, (outcome) => metrics?.order.copyTurns.labels(outcome).inc());
  }

  deliver(session: Session, message: DownstreamMessage, delivery: Delivery, forward?: ForwardedWrite): void {
    this.deliverInTurn(session, message, delivery, forward, undefined);
  }

  /**
   * Runs `refuse` once every CALL of `cid` that came before has left (take-order.ts): a command
   * refused at once must not be answered `stale` before an earlier one parked here, or its
   * sender routes the two again the other way round (docs/architecture.md §5.14).
   */
  refuseInLine(cid: string, refuse: () => void): void {
    this.takes.enter(cid)(() => {
      refuse();
      return undefined;
    });
  }

  /** `given`: the place in the charge point's take line a parked command kept (take-order.ts). */
  private deliverInTurn(
    session: Session,
    message: DownstreamMessage,
    delivery: Delivery,
    forward: ForwardedWrite | undefined,
    given: TakeTurn | undefined,
  ): void {
    const { ack, redelivered, release, linkEpoch } = delivery;
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
      given?.(() => undefined);
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
    // Not written, so its outcome is not ours to report; what joined it is delivered again, the
    // first in `turn` (this one's place in the take line) when given. True if `turn` was handed on.
    const refuse = (why: 'fenced' | 'dropped', turn?: TakeTurn): boolean => {
      if (waiting !== undefined && this.inProgress.get(key) === waiting) this.inProgress.delete(key);
      forward?.refuse(why);
      const joinedAcks = waiting?.slice(1) ?? [];
      joinedAcks.forEach((joinedAck, i) => {
        const again = { ack: joinedAck, redelivered };
        this.deliverInTurn(session, message, again, undefined, i === 0 ? turn : undefined);
      });
      return turn !== undefined && joinedAcks.length > 0;
    };
    const taken = (holder: string | undefined | typeof MARKS_UNAVAILABLE): Promise<void> | undefined => {
      const unmarked = holder === undefined || holder === MARKS_UNAVAILABLE;
      if (unmarked && release !== undefined && this.gate?.leftSince(linkEpoch)) {
        // Its MQTT link closed while this node was lapsed (lapse-gate.ts): the broker hands it to
        // an adopter after the charge point's earlier CALLs left behind; written here it overtook
        // them (a chaos run: 57 reordered, §5.13). Its copy that comes back here finds the mark this
        // run may have taken, and is written all the same (sent-marks.ts `abandon`).
        // The broker's copy, if already here, is handed out at once: it takes this turn (copy-turns.ts).
        marks.abandon(session.cid, message.uniqueId);
        const { turn, left } = headTurn();
        if (refuse('dropped', turn)) release();
        else this.leaveToCopy(key, turn, release);
        return left;
      }
      if (unmarked && forward?.overtakes() === true) {
        // Refused in its turn as well, it is routed again behind the one before it (§5.14); its
        // mark, maybe taken, must not make its next copy look written (sent-marks.ts `abandon`).
        marks.abandon(session.cid, message.uniqueId);
        refuse('dropped');
        return undefined;
      }
      if (holder === MARKS_UNAVAILABLE && this.gate !== undefined) {
        const gate = this.gate;
        // Parked, it keeps its place: its charge point's later CALLs wait until it has left.
        const { turn: atHead, left } = headTurn();
        const retry = (): void => {
          if (waiting !== undefined) this.inProgress.delete(key);
          const again = { ack: ackAll, redelivered, release, linkEpoch };
          this.deliverInTurn(session, message, again, forward && { ...forward, refuse }, atHead);
        };
        // docs/architecture.md §5.13: written here without a mark, it could be written again by an adopter.
        // Left behind, a local command's MQTT message goes back to the broker (bridge/inbox.ts),
        // whose next copy must not join this one.
        // A copy that joined it (an adopter's, routed here) takes its place: at the end of the line it
        // was written after the charge point's next CALL (a chaos run: 141 reordered, §5.14).
        const dropped = (): void => {
          if (refuse('dropped', atHead)) release?.();
          else this.leaveToCopy(key, atHead, release);
        };
        if (gate.park(retry, marks.lastError, dropped)) return left;
        marks.writingUnprotected(session.cid, message.uniqueId);
      }
      if (forward !== undefined && holder === forward.fence) {
        refuse('fenced');
        return undefined;
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
      } else if ((waiting?.length ?? 1) === 1 && withdrawn(delivery)) {
        // Nothing joined it, and its session went back to the node that answers it (Delivery.live).
        if (waiting !== undefined) this.inProgress.delete(key);
      } else {
        const description = lostWriteDescription(holder);
        this.publisher.gatewayError({
          cid: session.cid,
          uniqueId: message.uniqueId,
          action: message.action,
          reason: 'node_lost',
          errorCode: session.version.errorCodes.generic,
          description,
          ack: ackAll,
        });
      }
      return undefined;
    };
    const turn = given ?? this.copies.take(key, redelivered) ?? this.takes.enter(session.cid);
    const took = marks.take(session.cid, message.uniqueId, redelivered, forward?.fence);
    void took.then((holder) => turn(() => taken(holder)));
  }

  /**
   * Gives a command back to the broker (`release`) keeping its place at the head of the take line
   * for the broker's copy, when the inbox says that copy is already here and handed out at once;
   * else the line goes on (copy-turns.ts). Kept before the release, which may hand the copy out.
   */
  private leaveToCopy(key: string, turn: TakeTurn, release: Release | undefined): void {
    this.copies.keep(key, turn);
    if (release?.() !== true) this.copies.free(key);
  }
}
