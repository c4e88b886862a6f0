import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import { withdrawn, type Delivery, type DownstreamMessage } from '../ocpp/message.js';
import { DEFAULT_VERSION } from '../ocpp/versions/index.js';
import { lostWriteDescription } from './owner-delivery.js';
import { epochProtoVer, type Owner } from './registry.js';
import type { SentMarks } from './sent-marks.js';

/**
 * A redelivered CALL (MQTT DUP) whose charge point has no owner and no session here
 * (docs/architecture.md §5.5). The node that read it first may have written it to the charge
 * point before it died, or before the station left (§5.7): its written-mark says so. Answered
 * `offline`, such a command would get an error reply though the station may have acted on it.
 * So the mark is read first:
 * - another run's mark (or a sender's fence): `node_lost`, with the description the owner gives
 *   a redelivery it finds so marked (owner-delivery.ts);
 * - this run's mark: written by a session of this node, which published its outcome (the
 *   station's answer, or `disconnected` when it closed): acknowledged, no second answer;
 * - no mark, or Redis failing: `offline`, as for a fresh command.
 */
export class UnownedRedelivery {
  constructor(
    /** Absent in single-node mode: there, nothing is redelivered across nodes. */
    private readonly marks: SentMarks | undefined,
    private readonly publisher: UpstreamPublisher,
    private readonly metrics: ClusterMetrics | undefined,
  ) {}

  /** Settles once the command is answered or acknowledged; never rejects. */
  async answer(
    cid: string,
    { message, delivery }: { message: DownstreamMessage; delivery: Delivery },
    /** This node's own entry, if any: its epoch names the version (registry.ts). */
    owner: Owner | undefined,
    /** Answers `offline`; settles once the reply is out (command-router.ts `undeliverable`). */
    offline: () => Promise<void> | undefined,
  ): Promise<void> {
    const { marks } = this;
    const protoVer = owner === undefined ? undefined : epochProtoVer(owner.epoch);
    const { ack } = delivery;
    // A fresh command was read first here: nobody wrote it (a reused UniqueId is a new command).
    if (marks === undefined || message.type !== 2 || !delivery.redelivered) return offline();
    const holder = await marks.holder(cid, message.uniqueId).catch(() => undefined);
    if (holder === undefined) return offline();
    if (holder === marks.writer) {
      this.metrics?.routed.labels('duplicate').inc();
      return ack();
    }
    if (withdrawn(delivery)) return;
    this.metrics?.routed.labels('node_lost').inc();
    this.publisher.gatewayError({
      cid,
      uniqueId: message.uniqueId,
      action: message.action,
      reason: 'node_lost',
      // `GenericError` is spelled alike in every version; `protoVer` fills the topic's ${version}.
      errorCode: DEFAULT_VERSION.errorCodes.generic,
      description: lostWriteDescription(holder),
      ack,
      protoVer,
    });
  }
}
