import type { LocalSessions } from '../edge/session/session-table.js';
import type { PartitionMetrics } from '../observability/partition-metrics.js';
import type { ForwardedWrite, OwnerDelivery } from './owner-delivery.js';
import { fromWire } from './route-deliver.js';
import type { RouteEnvelope } from './route-envelope.js';
import type { SelfLiveness } from './self-liveness.js';
import { forwardFence } from './sent-marks.js';
import type { StaleLines } from './stale-lines.js';

type Deliver = Extract<RouteEnvelope, { k: 'deliver' }>;

export interface DeliverDeps {
  readonly table: LocalSessions;
  readonly owner: OwnerDelivery;
  readonly liveness: SelfLiveness;
  /** The Redis command deadline: the sender's PUBLISH has failed by then. */
  readonly commandTimeoutMs: number;
  readonly metrics: PartitionMetrics;
  readonly reply: (envelope: Deliver, outcome: 'done' | 'stale') => void;
  /** Commands refused `stale` that later ones of their charge point must not overtake (§5.14). */
  readonly stale: StaleLines;
}

/**
 * The owner's side of a `deliver` envelope (docs/architecture.md §5.4). Not written once the
 * sender may have given up on it (§5.13): the sender judges this node dead a node TTL after our
 * last acknowledged beat, and fails its own PUBLISH after the command deadline, though Redis may
 * still pass the message on when a silent cut heals. `stale` tells a sender still waiting that
 * nothing was written: it may look the owner up and try again.
 *
 * Whatever passes these checks may still wait (for its written-mark, parked while Redis is
 * silent) past the sender's `node_lost` verdict: the sender fences the command's mark before
 * answering, and the owner's take of the mark refuses a fenced command (§5.13). Both are atomic
 * on the one mark key, so a command is either written or answered `node_lost`, never both.
 */
export function handleDeliver(envelope: Deliver, deps: DeliverDeps): void {
  const { liveness, metrics, stale } = deps;
  const { cid, msg } = envelope;
  const arrival = stale.arrived();
  // Refused, it is routed again, and what followed it may be here already: that is refused from now on
  // until it is back, and the refusal is answered only after what came before it here (§5.14).
  const refused = (): void => {
    stale.refused(cid, msg.uniqueId, arrival);
    deps.reply(envelope, 'stale');
  };
  const refuse = (): void => {
    stale.refused(cid, msg.uniqueId, arrival);
    deps.owner.refuseInLine(cid, () => deps.reply(envelope, 'stale'));
  };
  if (liveness.lapsed) {
    metrics.count('deliver_dropped_lapsed');
    refuse();
    return;
  }
  if (envelope.at !== undefined && Date.now() - envelope.at > deps.commandTimeoutMs) {
    metrics.count('deliver_dropped_late');
    refuse();
    return;
  }
  if (!stale.admits(cid, msg.uniqueId)) {
    refuse();
    return;
  }
  const session = deps.table.lookup(envelope.cid);
  // A message for an older session of this charge point is stale: never written to the new one.
  if (session?.epoch !== envelope.epoch) {
    deps.reply(envelope, 'stale');
    return;
  }
  const ack = (): void => {
    // Written before the lapse, answered after it: the sender may have said node_lost already.
    if (liveness.lapsed) metrics.count('answered_after_lapse');
    deps.reply(envelope, 'done');
  };
  const forward: ForwardedWrite = {
    fence: forwardFence(envelope.from, envelope.ref),
    overtakes: () => stale.overtakes(cid, arrival),
    refuse: (why) => {
      if (why === 'fenced') metrics.count('deliver_fenced');
      // Left behind (parked, link closed): routed again like any refused command.
      if (why === 'dropped') refused();
      else deps.reply(envelope, 'stale');
    },
  };
  deps.owner.deliver(session, fromWire(envelope.msg), { ack, redelivered: envelope.dup }, forward);
}
