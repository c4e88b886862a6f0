import type { DownstreamMessage } from '../bridge/envelope.js';
import { EnvelopeEncodeError } from '../errors.js';
import type { Settled, UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { Session } from '../edge/session.js';
import type { ClusterMetrics, RouteResult } from '../observability/cluster-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import type { NodeDirectory } from './node-directory.js';
import type { OwnerCache } from './owner-cache.js';
import type { OwnerDelivery } from './owner-delivery.js';
import type { Owner, OwnershipRegistry } from './registry.js';
import type { RouteBus } from './route-bus.js';

export interface LocalSessions {
  lookup(cid: string): Session | undefined;
}

/** What cluster mode adds to the router; absent in single-node mode. */
export interface RouterCluster {
  readonly registry: OwnershipRegistry;
  /** Recent lookups; a miss or a wrong guess falls back to the registry (owner-cache.ts). */
  readonly cache: OwnerCache;
  readonly bus: RouteBus;
  readonly directory: NodeDirectory;
  readonly routeTimeoutMs: number;
  readonly metrics: ClusterMetrics;
}

interface Forwarded {
  readonly cid: string;
  readonly message: DownstreamMessage;
  readonly settled: Settled;
  readonly redelivered: boolean;
  readonly owner: string;
  readonly retried: boolean;
  readonly startedAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Routes each downstream message to the node that owns the charge point (DESIGN §1, §4).
 * Local owner: straight to the session. Otherwise the registry names the owner and the message
 * goes over the route bus; it stays pending here until the owner reports its outcome, and ends
 * with an error reply if it cannot: no owner (`offline`), Redis failing (`unroutable`), the owner
 * dying first (`node_lost`) or never answering (`timeout`). `settled` (the MQTT PUBACK) runs only
 * once the outcome is published, by whichever node published it.
 */
export class CommandRouter {
  private readonly pending = new Map<number, Forwarded>();
  private nextRef = 0;

  constructor(
    private readonly nodeId: string,
    private readonly local: LocalSessions,
    private readonly owner: OwnerDelivery,
    private readonly publisher: UpstreamPublisher,
    private readonly cluster: RouterCluster | undefined,
    private readonly log: Logger,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  route(cid: string, message: DownstreamMessage, settled: Settled, redelivered: boolean): void {
    const session = this.local.lookup(cid);
    if (session !== undefined) {
      this.cluster?.metrics.routed.labels('local').inc();
      this.owner.deliver(session, message, settled, redelivered);
      return;
    }
    if (this.cluster === undefined) {
      this.undeliverable(cid, message, 'offline', settled);
      return;
    }
    void this.forward(this.cluster, cid, message, settled, redelivered, false);
  }

  private async forward(
    cluster: RouterCluster,
    cid: string,
    message: DownstreamMessage,
    settled: Settled,
    redelivered: boolean,
    retried: boolean,
  ): Promise<void> {
    // A retry always asks the registry: the guess that failed may have come from the cache.
    let owner: Owner | undefined = retried ? undefined : cluster.cache.get(cid);
    const cached = owner !== undefined;
    if (!cached) {
      try {
        owner = await cluster.registry.lookup(cid);
      } catch {
        this.undeliverable(cid, message, 'unroutable', settled);
        return;
      }
    }
    const session = this.local.lookup(cid);
    if (session !== undefined || owner === undefined || owner.nodeId === this.nodeId) {
      // Our own entry, or none: the charge point may have connected here meanwhile.
      if (session !== undefined) this.owner.deliver(session, message, settled, redelivered);
      else this.undeliverable(cid, message, 'offline', settled);
      return;
    }
    if (!cached) cluster.cache.set(cid, owner);
    const ref = ++this.nextRef;
    const entry: Forwarded = {
      cid,
      message,
      settled,
      redelivered,
      owner: owner.nodeId,
      retried,
      startedAt: performance.now(),
      timer: undefined,
    };
    entry.timer = setTimeout(() => this.fail(ref, 'timeout'), cluster.routeTimeoutMs);
    entry.timer.unref();
    this.pending.set(ref, entry);
    cluster.metrics.routePending.set(this.pending.size);
    try {
      const envelope = {
        v: 1,
        k: 'deliver',
        from: this.nodeId,
        ref,
        cid,
        epoch: owner.epoch,
        dup: redelivered,
        msg: message,
      } as const;
      const receivers = await cluster.bus.send(owner.nodeId, envelope);
      // Nobody subscribed on the owner's channel: its node is gone (DESIGN §4). A cached
      // owner may just be out of date: ask the registry once before answering offline.
      if (receivers === 0 && cached) this.retry(ref, cluster);
      else if (receivers === 0) this.fail(ref, 'offline');
    } catch (error) {
      // The command itself cannot be packed: no retry or other node can help it.
      this.fail(ref, error instanceof EnvelopeEncodeError ? 'malformed' : 'unroutable');
    }
  }

  /** The owner's `reply` envelope. */
  outcome(ref: number, outcome: 'done' | 'stale'): void {
    const entry = this.take(ref);
    if (entry === undefined || this.cluster === undefined) return;
    if (outcome === 'done') {
      this.cluster.metrics.routed.labels('forwarded').inc();
      this.cluster.metrics.routeRoundTrip.observe((performance.now() - entry.startedAt) / 1000);
      entry.settled();
      return;
    }
    // The session we addressed is gone (takeover or reconnect since the lookup): look again once.
    this.cluster.metrics.routed.labels('stale').inc();
    this.cluster.cache.forget(entry.cid);
    if (entry.retried) {
      this.undeliverable(entry.cid, entry.message, 'offline', entry.settled);
      return;
    }
    void this.forward(this.cluster, entry.cid, entry.message, entry.settled, entry.redelivered, true);
  }

  /** A cached owner did not answer the PUBLISH: forget it and ask the registry. */
  private retry(ref: number, cluster: RouterCluster): void {
    const entry = this.take(ref);
    if (entry === undefined) return;
    cluster.cache.forget(entry.cid);
    void this.forward(cluster, entry.cid, entry.message, entry.settled, entry.redelivered, true);
  }

  /** The owner's heartbeat expired (or it said `bye`): what it held will never be reported. */
  nodeLost(nodeId: string): void {
    this.cluster?.cache.forgetNode(nodeId);
    let count = 0;
    for (const [ref, entry] of this.pending) {
      if (entry.owner !== nodeId) continue;
      this.fail(ref, 'node_lost');
      count += 1;
    }
    if (count > 0) this.log.warn({ node: nodeId, commands: count }, 'answered commands held by a lost node');
  }

  /** Shutdown: nothing pending may end in silence. */
  failAll(reason: GatewayReason): void {
    for (const ref of [...this.pending.keys()]) this.fail(ref, reason);
  }

  private take(ref: number): Forwarded | undefined {
    const entry = this.pending.get(ref);
    if (entry === undefined) return undefined;
    this.pending.delete(ref);
    clearTimeout(entry.timer);
    this.cluster?.metrics.routePending.set(this.pending.size);
    return entry;
  }

  private fail(ref: number, reason: GatewayReason): void {
    const entry = this.take(ref);
    if (entry !== undefined) this.undeliverable(entry.cid, entry.message, reason, entry.settled);
  }

  private undeliverable(
    cid: string,
    message: DownstreamMessage,
    reason: GatewayReason,
    settled: Settled,
  ): void {
    this.cluster?.metrics.routed.labels(routeResult(reason)).inc();
    const action = message.type === 2 ? message.action : undefined;
    this.publisher.undelivered(cid, message.type, message.uniqueId, action, reason, settled);
  }
}

/** The router itself ends a message only for these reasons; anything else counts as offline. */
const ROUTER_REASONS: ReadonlySet<GatewayReason> = new Set([
  'unroutable',
  'malformed',
  'node_lost',
  'timeout',
  'shutdown',
]);

function routeResult(reason: GatewayReason): RouteResult {
  return ROUTER_REASONS.has(reason) ? (reason as RouteResult) : 'offline';
}
