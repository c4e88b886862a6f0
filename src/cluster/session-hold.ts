import type { LinkGuard } from '../bridge/link-guard.js';
import { TUNING } from '../config/tuning.js';
import type { PartitionMetrics } from '../observability/partition-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { LapseGate } from './lapse-gate.js';
import type { SelfLiveness } from './self-liveness.js';

/**
 * The node's MQTT session against adoption (docs/architecture.md §5.13). When the broker hands
 * the session to another client (MQTT 5 reason 0x8E), or the link closes while this node's
 * liveness has lapsed (an MQTT 3.1.1 broker says nothing), a survivor may be adopting it: taking
 * it back at once would fight the adopter every second. The link waits instead until a
 * heartbeat is acknowledged (peers see this node alive again, the adopter gives way for good),
 * then reconnects and subscribes again.
 */
export function holdSessionWhileLapsed(
  guard: LinkGuard,
  liveness: SelfLiveness,
  gate: LapseGate,
  metrics: PartitionMetrics,
  log: Logger,
): void {
  const hold = (why: string): void => {
    if (guard.held) return;
    guard.hold();
    log.warn({ why }, 'mqtt reconnect held until this node is seen alive again');
    void liveness.confirmed().then(() => guard.resume());
  };
  guard.onTakenOver(() => {
    metrics.count('session_taken_over');
    hold('session taken over');
  });
  // Back from a lapse, parked messages wait for the link to prove it outlived it (lapse-gate.ts).
  gate.confirmLinkWith(() => guard.probe(TUNING.linkProbeMs));
  guard.onClose(() => {
    // What it parked came over this connection: the broker redelivers it, maybe to an adopter.
    gate.dropAll();
    if (liveness.lapsed) hold('closed while liveness lapsed');
  });
}
