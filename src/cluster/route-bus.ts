import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { RedisLink } from './redis-link.js';
import { decodeEnvelope, encodeEnvelope, type RouteEnvelope } from './route-envelope.js';
import { redisKeys } from './keys.js';
import { within } from '../io/deadline.js';

export type EnvelopeHandler = (envelope: RouteEnvelope) => void;

/** What {@link RouteBus.check} publishes: never an envelope (those are never empty), ignored. */
const PROBE = Buffer.alloc(0);

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

  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  /** Checks in a row that found the subscription gone. */
  private misses = 0;

  /** Subscribes; then every `checkEveryMs` (if given) makes sure the subscription holds. */
  async start(handler: EnvelopeHandler, checkEveryMs?: number): Promise<void> {
    await this.redis.subscribe(this.channel(this.nodeId), (payload) => {
      if (payload.length === 0) return;
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
    if (checkEveryMs === undefined) return;
    // A lost subscription would lose every envelope sent to this node, unnoticed.
    const check = (): void =>
      void this.check().catch((error: unknown) => this.log.debug({ err: error }, 'route bus check failed'));
    this.checkTimer = setInterval(check, checkEveryMs);
    this.checkTimer.unref();
  }

  stop(): void {
    clearInterval(this.checkTimer);
  }

  /**
   * Whether Redis still delivers this node's channel to it, repaired if not: a probe published to
   * it reaching nobody means the subscription is gone (every Redis Cluster node restarted, and the
   * client's own re-subscription failed), and peers' envelopes, `reply` among them, would be lost
   * until the node restarts. Resolves to false when it had to subscribe again; rejects when Redis
   * is unreachable (the next check tries again).
   */
  async check(): Promise<boolean> {
    if (this.checking) return true;
    this.checking = true;
    try {
      const channel = this.channel(this.nodeId);
      if ((await this.redis.publish(channel, PROBE)) > 0) {
        this.misses = 0;
        return true;
      }
      this.misses += 1;
      this.log.warn({ channel, misses: this.misses }, 'route bus subscription lost; subscribing again');
      // First on the same connection; if that did not bring it back, on a new one.
      await within(this.redis.resubscribe(channel, this.misses > 1), 5000);
      return false;
    } finally {
      this.checking = false;
    }
  }

  /** Resolves to the receiver count; rejects when Redis is unreachable. */
  send(nodeId: string, envelope: RouteEnvelope): Promise<number> {
    return this.redis.publish(this.channel(nodeId), encodeEnvelope(envelope));
  }

  /**
   * A `deliver` to the owner the registry has just named: reaching nobody is tried again, with
   * back-off, for `unheardMs`. After Redis restarts, a node's command connection (which writes its
   * owner entries back, §5.10) can be back before its subscribed connection has subscribed again,
   * and a command sent then would be answered `offline` for a charge point that is connected.
   * Nobody received it, so sending it again cannot write it twice. Resolves to the last receiver
   * count; rejects as {@link send} does.
   */
  async sendHeard(nodeId: string, envelope: RouteEnvelope, unheardMs: number): Promise<number> {
    const until = Date.now() + unheardMs;
    for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 500)) {
      const receivers = await this.send(nodeId, envelope);
      if (receivers > 0 || Date.now() + delayMs > until) return receivers;
      await sleep(delayMs);
    }
  }

  /**
   * For an outcome the receiver waits on (a `reply`: the command was written, its answer
   * published): retried while Redis refuses it, up to `forMs` (the sender's route timeout). A
   * Redis Cluster failover refuses every command on every shard (CLUSTERDOWN) for seconds; a
   * lost `done` would make the sender answer `timeout` for a command the charge point executed,
   * and leave its MQTT message unacknowledged, to be handed out and written again later.
   * Reaching nobody is retried too, for `unheardMs` (within `forMs`): after a failover the
   * receiver's channel has no subscriber until its check (§5.4) subscribes again.
   */
  notifyUntil(nodeId: string, envelope: RouteEnvelope, forMs: number, unheardMs = 0): void {
    const start = Date.now();
    const deadline = start + forMs;
    const unheardUntil = start + Math.min(forMs, unheardMs);
    const attempt = (delayMs: number): void => {
      const again = (until: number, why: Record<string, unknown>): void => {
        if (Date.now() + delayMs > until) {
          this.log.debug({ to: nodeId, kind: envelope.k, ...why }, 'route notice not sent');
          return;
        }
        setTimeout(() => attempt(Math.min(delayMs * 2, 1000)), delayMs).unref();
      };
      this.send(nodeId, envelope).then(
        (receivers) => {
          if (receivers === 0) again(unheardUntil, { receivers });
        },
        (error: unknown) => again(deadline, { err: error }),
      );
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
