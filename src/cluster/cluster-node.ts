import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { ClusterConfig } from '../config/index.js';
import type { Session } from '../edge/session/session.js';
import type { OwnershipHooks, SessionTable } from '../edge/session/session-table.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { Logger } from '../observability/logger.js';
import { TUNING } from '../config/tuning.js';
import { CommandRouter, type RouterCluster } from './command-router.js';
import { NodeDirectory, type DirectoryEvents } from './node-directory.js';
import { OwnerCache } from './owner-cache.js';
import { OwnerDelivery } from './owner-delivery.js';
import type { RedisLink } from './redis-link.js';
import { RedisRegistry } from './redis-registry.js';
import type { RouteEnvelope } from './route-envelope.js';
import { handleDeliver, type DeliverDeps } from './deliver-envelope.js';
import { StaleLines } from './stale-lines.js';
import { RouteBus } from './route-bus.js';
import { LapseGate } from './lapse-gate.js';
import { LostVerdict } from './lost-verdict.js';
import { realClock } from '../io/clock.js';
import { SelfLiveness } from './self-liveness.js';
import { SentMarks } from './sent-marks.js';

export interface ClusterNodeOptions {
  readonly redis: RedisLink;
  readonly config: ClusterConfig;
  readonly nodeId: string;
  /** This process's run id: written-marks say which run wrote a command. */
  readonly run: string;
  readonly mqttClientId: string;
  /** How long a written-mark outlives its command (the broker may redeliver until then). */
  readonly markTtlMs: number;
  readonly table: SessionTable;
  readonly publisher: UpstreamPublisher;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
  /** A dead node's MQTT session is left behind: adopt it (session-adopter.ts). */
  readonly adopt: DirectoryEvents['dead'];
  /** A node judged dead beats again: an adopter gives way to it for good. */
  readonly revived?: DirectoryEvents['revived'];
}

/**
 * A node's part in the cluster (docs/architecture.md §5): claims and releases ownership as sockets come and
 * go, answers the route bus (deliveries for its sockets, outcomes of what it forwarded,
 * takeovers, kicks, byes), re-asserts its entries when Redis comes back, and tells the router
 * when a peer is lost. Session adoption is wired in by the gateway through `events.dead`.
 */
export class ClusterNode implements OwnershipHooks {
  readonly directory: NodeDirectory;
  readonly registry: RedisRegistry;
  readonly bus: RouteBus;
  readonly router: CommandRouter;
  /** Whether peers may judge this node dead (self-liveness.ts). */
  readonly liveness: SelfLiveness;
  /** Parks what needs Redis while lapsed (lapse-gate.ts). */
  readonly gate: LapseGate;
  private reassertTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly redis: RedisLink;
  private readonly config: ClusterConfig;
  private readonly nodeId: string;
  private readonly table: SessionTable;
  private readonly metrics: ClusterMetrics;
  private readonly log: Logger;

  constructor(options: ClusterNodeOptions) {
    const { redis, config, nodeId, run, mqttClientId, markTtlMs, table, publisher, metrics, log, adopt } =
      options;
    this.liveness = new SelfLiveness(config.nodeTtlMs, config.heartbeatMs, log);
    const { liveness } = this;
    // Twice the TTL: long enough for a survivor to notice and adopt (docs/architecture.md §5.13).
    this.gate = new LapseGate(liveness, 2 * config.nodeTtlMs, metrics.partition, log);
    this.redis = redis;
    this.config = config;
    this.nodeId = nodeId;
    this.table = table;
    this.metrics = metrics;
    this.log = log;
    const { revived } = options;
    const events: DirectoryEvents = { lost: (id) => this.router.nodeLost(id), dead: adopt, revived };
    const directoryOptions = { redis, config, nodeId, mqttClientId, events, metrics, log, liveness };
    this.directory = new NodeDirectory(directoryOptions);
    this.registry = new RedisRegistry(redis, config, nodeId, this.directory, log);
    this.bus = new RouteBus(redis, config.prefix, nodeId, metrics, log);
    // Long enough for a dead node to be noticed and its session adopted (docs/architecture.md §5.7).
    const doneTtlMs = Math.max(TUNING.minDoneMarkTtlMs, 5 * config.nodeTtlMs);
    const marks = new SentMarks(redis, config.prefix, `${nodeId}|${run}`, markTtlMs, doneTtlMs, log);
    marks.onUnprotected(() => metrics.partition.count('unprotected_write'));
    const owner = new OwnerDelivery(publisher, marks, metrics, this.gate);
    const cluster = this.clusterDeps(marks);
    this.router = new CommandRouter({ nodeId, local: table, owner, publisher, cluster, log });
    this.deliverDeps = {
      table,
      owner,
      liveness,
      commandTimeoutMs: config.commandTimeoutMs,
      metrics: metrics.partition,
      stale: new StaleLines(config.routeTimeoutMs),
      reply: (envelope, outcome) => {
        const reply = { v: 1, k: 'reply', from: nodeId, ref: envelope.ref, outcome } as const;
        this.bus.notifyUntil(envelope.from, reply, config.routeTimeoutMs, 2 * config.nodeTtlMs);
      },
    };
  }

  private readonly deliverDeps: DeliverDeps;

  private clusterDeps(marks: SentMarks): RouterCluster {
    const { nodeId, config, metrics } = this;
    return {
      registry: this.registry,
      cache: new OwnerCache(TUNING.ownerCacheTtlMs, TUNING.ownerCacheMax),
      bus: this.bus,
      routeTimeoutMs: config.routeTimeoutMs,
      metrics,
      gate: this.gate,
      lostVerdict: new LostVerdict(marks, nodeId, config.routeTimeoutMs, metrics.partition, realClock),
      absentOwner: { settled: () => this.directory.settled(), maxWaitMs: config.nodeTtlMs },
    };
  }

  async start(): Promise<void> {
    await this.bus.start((envelope) => this.onEnvelope(envelope), this.config.heartbeatMs);
    await this.directory.start();
    this.redis.onReconnect(() => void this.reassert('redis reconnected'));
    // Peers deleted our entries as stale while we could not beat (docs/architecture.md §5.13).
    this.liveness.onBack(() => void this.reassert('liveness re-established'));
    // Refresh the owner entries' TTL well before it runs out.
    const everyMs = Math.max(60_000, (this.config.ownerTtlS * 1000) / 3);
    this.reassertTimer = setInterval(() => void this.reassert('ttl refresh'), everyMs);
    this.reassertTimer.unref();
  }

  /** SessionTable hook: a socket opened here (newest wins across nodes too). */
  owned(session: Session): void {
    this.directory.beatIfDue(); // a reconnect storm can hold its timer for seconds (node-directory.ts)
    this.registry.claim(session.cid, session.epoch).then(
      (previous) => {
        if (previous === undefined) return;
        this.metrics.takeovers.labels('claimed').inc();
        const envelope = {
          v: 1,
          k: 'takeover',
          from: this.nodeId,
          cid: session.cid,
          epoch: previous.epoch,
        } as const;
        this.bus.notify(previous.nodeId, envelope);
      },
      // Redis is away: the entry is written when it comes back (reassert).
      (error: unknown) => this.log.debug({ cpId: session.cid, err: error }, 'claim deferred'),
    );
  }

  /** SessionTable hook: a socket closed; its entry goes only if it is still this session's. */
  released(session: Session): void {
    this.registry.release(session.cid, session.epoch);
    this.directory.beatIfDue(); // as in owned(): a mass disconnect holds the timer too
  }

  private onEnvelope(envelope: RouteEnvelope): void {
    switch (envelope.k) {
      case 'deliver':
        handleDeliver(envelope, this.deliverDeps);
        return;
      case 'reply':
        this.router.outcome(envelope.ref, envelope.outcome);
        return;
      case 'takeover': {
        const session = this.table.lookup(envelope.cid);
        if (session?.epoch !== envelope.epoch) return;
        this.metrics.takeovers.labels('released').inc();
        this.log.info({ cpId: envelope.cid, to: envelope.from }, 'charge point taken over by another node');
        session.close(1000, 'replaced', 'replaced');
        return;
      }
      case 'kick':
        this.table.lookup(envelope.cid)?.close(1000, 'kicked', 'kicked');
        return;
      case 'bye':
        // Before markGone's node-loss verdict: what the leaver never reached goes elsewhere.
        if (envelope.quiesced === true) this.router.nodeLeft(envelope.from);
        this.directory.markGone(envelope.from);
        return;
      default: {
        const unreachable: never = envelope;
        throw new Error(`unhandled envelope ${String(unreachable)}`);
      }
    }
  }

  /**
   * Writes this node's entries back (Redis may have restarted empty); older sockets give way.
   * A failed attempt (Redis still settling: a Cluster master that just came back answers MOVED
   * for a while) is retried with a growing delay until one succeeds.
   */
  async reassert(why: string, attempt = 1): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const held = [...this.table.values()].map((s) => ({ cid: s.cid, epoch: s.epoch }));
    try {
      const lostTo = await this.registry.reassert(held);
      this.metrics.reasserted.labels('written').inc(held.length - lostTo.length);
      this.metrics.reasserted.labels('given_up').inc(lostTo.length);
      for (const cid of lostTo) this.table.lookup(cid)?.close(1000, 'replaced', 'replaced');
      this.log.info({ why, held: held.length, givenUp: lostTo.length }, 'ownership re-asserted');
    } catch (error) {
      if (this.stopped) return;
      const delayMs = Math.min(TUNING.reassertRetryBaseMs * 2 ** (attempt - 1), TUNING.reassertRetryMaxMs);
      this.log.warn({ why, attempt, delayMs, err: error }, 'ownership re-assert failed; retrying');
      this.retryTimer = setTimeout(() => void this.reassert(why, attempt + 1), delayMs);
      this.retryTimer.unref();
    }
  }

  /** Admin API: the live node that owns `cid` (this one included, if its entry says so). */
  async locate(cid: string): Promise<string | undefined> {
    const owner = await this.registry.lookup(cid);
    // Our own entry without a local socket is a leftover (the socket closed meanwhile).
    if (owner === undefined || (owner.nodeId === this.nodeId && this.table.lookup(cid) === undefined))
      return undefined;
    return owner.nodeId;
  }

  /** Admin API: kick a charge point on another node; false when no live node owns it. */
  async kick(cid: string): Promise<boolean> {
    const owner = await this.registry.lookup(cid);
    // Our own entry without a local socket is a leftover: nothing to kick.
    if (owner === undefined || owner.nodeId === this.nodeId) return false;
    return (await this.bus.send(owner.nodeId, { v: 1, k: 'kick', from: this.nodeId, cid })) > 0;
  }

  /**
   * Clean shutdown, after the sockets are closed: peers stop waiting on us at once. `quiesced`:
   * every outcome this node owed is published (the drain's wait ended in time), so peers may
   * route again what they still wait on us for instead of answering it `node_lost`.
   */
  async stop(quiesced = false): Promise<void> {
    this.stopped = true;
    clearInterval(this.reassertTimer);
    this.bus.stop();
    clearTimeout(this.retryTimer);
    this.router.failAll('shutdown');
    for (const peer of this.directory.peers())
      await this.bus.send(peer, { v: 1, k: 'bye', from: this.nodeId, quiesced }).catch(() => 0);
    await this.directory.stop();
  }
}
