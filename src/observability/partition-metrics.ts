import type { Counter, Registry } from 'prom-client';
import { labelledCounter } from './labelled-counter.js';

/**
 * What silent partitions cost (docs/architecture.md §5.13), one counter, bounded labels, each
 * initialised to 0:
 * - `deliver_dropped_lapsed`: a forwarded command not written because this node's liveness lapsed;
 * - `deliver_dropped_late`: one not written because it arrived later than the Redis command deadline;
 * - `answered_after_lapse`: a forwarded command written before the lapse and answered after it
 *   (the sender may have answered it `node_lost` already: the counted window);
 * - `unprotected_write`: a command written without a written-mark (Redis unreachable);
 * - `session_taken_over`: the broker handed this node's MQTT session to another client;
 * - `parked`, `parked_dropped`: downstream messages parked while lapsed, and those left to the
 *   broker to redeliver when the link closed (lapse-gate.ts);
 * - `deliver_fenced`: a forwarded command not written because its sender had fenced its mark
 *   and answered `node_lost`;
 * - `lost_verdict_held`: on a sender, a command forwarded to a lost owner that had taken its
 *   mark: `node_lost` waits for the route timeout, the owner may still report the outcome;
 * - `owner_unproven`: a command whose owner lookup found no entry within a node TTL of Redis
 *   trouble, asked again before it is answered `offline` (cluster/absent-owner.ts).
 */
export const PARTITION_EVENTS = [
  'deliver_dropped_lapsed',
  'deliver_dropped_late',
  'answered_after_lapse',
  'unprotected_write',
  'session_taken_over',
  'parked',
  'parked_dropped',
  'deliver_fenced',
  'lost_verdict_held',
  'owner_unproven',
] as const;
export type PartitionEvent = (typeof PARTITION_EVENTS)[number];

export class PartitionMetrics {
  private readonly events: Counter<'event'>;

  constructor(registry: Registry) {
    this.events = labelledCounter({
      name: 'ocpp_gateway_partition_events_total',
      help: 'Silent-partition events by kind (docs/architecture.md §5.13)',
      label: 'event',
      values: PARTITION_EVENTS,
      registry,
    });
  }

  count(event: PartitionEvent): void {
    this.events.labels(event).inc();
  }
}
