import type { Logger } from '../observability/logger.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { RedisLink } from './redis-link.js';
import { decodeEnvelope, encodeEnvelope, type RouteEnvelope } from './route-envelope.js';
import { redisKeys } from './keys.js';

export type EnvelopeHandler = (envelope: RouteEnvelope) => void;

/**
 * The route bus (docs/architecture.md §5.4): each node subscribes to `{prefix}:route:{nodeId}`; other nodes
 * publish envelopes to it. Redis pub/sub is fire-and-forget, so `send` resolves to the number
 * of receivers: 0 means nobody listens on that node's channel, i.e. the node is gone.
 */
export class RouteBus {
  constructor(
    private readonly redis: RedisLink,
    private readonly prefix: string,
    readonly nodeId: string,
    private readonly metrics: ClusterMetrics,
    private readonly log: Logger,
  ) {}

  channel(nodeId: string): string {
    return redisKeys.route(this.prefix, nodeId);
  }

  async start(handler: EnvelopeHandler): Promise<void> {
    await this.redis.subscribe(this.channel(this.nodeId), (payload) => {
      const decoded = decodeEnvelope(payload);
      if (!decoded.ok) {
        this.metrics.envelopesRejected.labels(decoded.reason).inc();
        this.log.warn({ reason: decoded.reason, bytes: payload.length }, 'route envelope rejected');
        return;
      }
      try {
        handler(decoded.envelope);
      } catch (error) {
        this.log.error({ kind: decoded.envelope.k, err: error }, 'route envelope handler failed');
      }
    });
  }

  /** Resolves to the receiver count; rejects when Redis is unreachable. */
  send(nodeId: string, envelope: RouteEnvelope): Promise<number> {
    return this.redis.publish(this.channel(nodeId), encodeEnvelope(envelope));
  }

  /**
   * For an outcome the receiver waits on (a `reply`: the command was written, its answer
   * published): retried while Redis refuses it, up to `forMs` (the sender's route timeout). A
   * Redis Cluster failover refuses every command on every shard (CLUSTERDOWN) for seconds; a
   * lost `done` would make the sender answer `timeout` for a command the charge point executed.
   */
  notifyUntil(nodeId: string, envelope: RouteEnvelope, forMs: number): void {
    const deadline = Date.now() + forMs;
    const attempt = (delayMs: number): void => {
      this.send(nodeId, envelope).catch((error: unknown) => {
        if (Date.now() + delayMs > deadline) {
          this.log.debug({ to: nodeId, kind: envelope.k, err: error }, 'route notice not sent');
          return;
        }
        setTimeout(() => attempt(Math.min(delayMs * 2, 1000)), delayMs).unref();
      });
    };
    attempt(100);
  }

  /** Best effort, for notices (`bye`) whose loss the receivers detect by other means. */
  notify(nodeId: string, envelope: RouteEnvelope): void {
    this.send(nodeId, envelope).catch((error: unknown) =>
      this.log.debug({ to: nodeId, kind: envelope.k, err: error }, 'route notice not sent'),
    );
  }
}
