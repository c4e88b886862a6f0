import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import { routeResult, type ClusterMetrics } from '../observability/cluster-metrics.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import { withdrawn, type Delivery, type DownstreamMessage } from '../ocpp/message.js';

/**
 * Answers a command the router could not deliver; settles once the reply is out and the message
 * acknowledged. `protoVer` fills the topic's `${version}` (registry.ts `epochProtoVer`) when known.
 */
export type AnswerUndeliverable = (
  cid: string,
  msg: DownstreamMessage,
  reason: GatewayReason,
  delivery: Delivery,
  protoVer?: string,
) => Promise<void> | undefined;

/**
 * The router's error replies (docs/architecture.md §2.7), acknowledged once published. Each settles
 * then, so the charge point's line can wait for it (§5.14): a line that went on at once let the
 * next command be written while this one's message was still unacknowledged; when an adopter handed
 * the session back before its reply was out (its publish backlog was seconds long), the broker gave
 * the message to the node, which wrote it after the next one (a chaos run: 637 reordered).
 * `undefined`: withdrawn, nothing published (Delivery.live).
 */
export function undeliverableAnswerer(
  publisher: UpstreamPublisher,
  metrics: ClusterMetrics | undefined,
): AnswerUndeliverable {
  return (cid, msg, reason, delivery, protoVer) => {
    if (withdrawn(delivery)) return undefined;
    metrics?.routed.labels(routeResult(reason)).inc();
    const action = msg.type === 2 ? msg.action : undefined;
    return new Promise<void>((out) => {
      const ack = (): void => {
        delivery.ack();
        out();
      };
      publisher.undelivered(cid, msg.type, msg.uniqueId, action, reason, ack, protoVer);
    });
  };
}
