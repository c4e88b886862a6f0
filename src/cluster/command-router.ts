import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import { withdrawn, type Delivery, type DownstreamMessage } from '../ocpp/message.js';
import { undeliverableAnswerer, type AnswerUndeliverable } from './router-reply.js';
import type { LocalSessions } from '../edge/session/session-table.js';
import { TUNING } from '../config/tuning.js';
import { EnvelopeEncodeError } from '../errors.js';
import { RateLimitedWarn } from '../observability/rate-limited-warn.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import type { OwnerDelivery } from './owner-delivery.js';
import { epochProtoVer, type Owner } from './registry.js';
import type { CommandRouterOptions, Forwarded, Routed, RouterCluster } from './router-types.js';
import { parkAtHead } from './park-at-head.js';
import { MoveFence, routedAgain } from './move-fence.js';
import { PendingForwards } from './pending-forwards.js';
import { StationOrder } from './station-order.js';
import { deliverEnvelope } from './route-deliver.js';
import { UnownedRedelivery } from './unowned-redelivery.js';
import { ReleasedPlaces } from './released-places.js';
import { lookupOwner, unheardWaitMs } from './absent-owner.js';
import { realClock, type Clock } from '../io/clock.js';

export type { CommandRouterOptions, RouterCluster } from './router-types.js';
/**
 * Routes each downstream message to the node that owns the charge point (docs/architecture.md §5.5):
 * a local session directly, else over the route bus to the owner the registry names, pending here
 * until the owner reports; an error reply if it cannot (`offline`, `unroutable`, `node_lost`,
 * `timeout`). `ack` (the MQTT PUBACK) runs once the outcome is published, by whichever node
 * published it. One charge point's commands leave in arrival order, each after the one before (§5.14).
 */
export class CommandRouter {
  private readonly pending: PendingForwards;
  private readonly order: StationOrder<Routed>;
  private readonly moves: MoveFence;
  private readonly nodeId: string;
  private readonly local: LocalSessions;
  private readonly owner: OwnerDelivery;
  private readonly publisher: UpstreamPublisher;
  private readonly cluster: RouterCluster | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  // Redis failing on the routing path: every command fails alike, so one line per interval says so.
  private readonly lookupFailed: RateLimitedWarn;
  private readonly sendFailed: RateLimitedWarn;
  private readonly unowned: UnownedRedelivery;
  /** Settles once the reply is out and acknowledged: a line waits for it (router-reply.ts). */
  private readonly undeliverable: AnswerUndeliverable;
  private arrivals = 0;
  /** Where the broker's copy of a command given back to it goes in its line (released-places.ts). */
  private readonly places: ReleasedPlaces;
  private readonly timedOut = (ref: number): void => void this.fail(ref, 'timeout');

  constructor(options: CommandRouterOptions) {
    ({ nodeId: this.nodeId, local: this.local, owner: this.owner } = options);
    ({ publisher: this.publisher, cluster: this.cluster, log: this.log } = options);
    this.clock = options.clock ?? realClock;
    this.pending = new PendingForwards(this.clock, this.cluster?.metrics);
    this.places = new ReleasedPlaces(this.clock);
    const limits = options.order ?? { maxPerCp: TUNING.orderMaxPerCp, maxTotal: TUNING.orderMaxTotal };
    const start = (cid: string, item: Routed): Promise<void> | undefined => this.start(cid, item);
    this.order = new StationOrder(limits, start, this.cluster?.metrics.order, (item) => item.seq);
    this.moves = new MoveFence(this.order, this.pending, start, this.cluster?.metrics.order);
    const warn = (what: string) => new RateLimitedWarn(this.log, what, TUNING.routingWarnIntervalMs);
    this.lookupFailed = warn('owner lookup failed: commands unroutable');
    this.sendFailed = warn('route bus send failed: commands unroutable');
    this.undeliverable = undeliverableAnswerer(this.publisher, this.cluster?.metrics);
    this.unowned = new UnownedRedelivery(this.owner.marks, this.publisher, this.cluster?.metrics);
  }

  /** Forwards waiting for their owner, and commands still in their charge point's line. */
  get pendingCount(): number {
    return this.pending.size + this.order.size;
  }

  /** A property, not a method: handed as it is to the subscriber, the adopter and the sessions. */
  readonly route = (cid: string, message: DownstreamMessage, delivery: Delivery): void => {
    this.arrivals += 1;
    const seq = this.places.placeOf(cid, message.uniqueId, delivery.redelivered) ?? this.arrivals;
    const item = { message, delivery, retried: false, seq };
    // Single node: written here or answered at once, nothing to wait for.
    if (this.cluster === undefined) void this.start(cid, item);
    else this.enter(cid, item);
  };

  /** Into the charge point's line (station-order.ts); past a cap the command is answered at once. */
  private enter(cid: string, item: Routed): void {
    if (!this.order.enter(cid, item)) void this.undeliverable(cid, item.message, 'queue_full', item.delivery);
  }

  /** The head of a charge point's line: settles once it has left this node (station-order.ts). */
  private start(cid: string, item: Routed): Promise<void> | undefined {
    const { message, delivery } = item;
    // An adopted session went back to its node, which the broker now hands this message (§5.8):
    // routed from here too, the two copies race to the owner (a chaos run: 4 reordered).
    if (withdrawn(delivery)) return undefined;
    const session = this.local.lookup(cid);
    if (session !== undefined) {
      const held = this.cluster && this.moves.check(cid, item, undefined);
      if (held) return held;
      this.cluster?.metrics.routed.labels('local').inc();
      this.owner.deliver(session, message, delivery);
    } else if (this.cluster === undefined) void this.undeliverable(cid, message, 'offline', delivery);
    else return this.park(cid, item) ?? this.forward(this.cluster, cid, item);
    return undefined;
  }

  /** parkAtHead (park-at-head.ts); given back to the broker, the command's place is kept for its copy. */
  private park(cid: string, item: Routed, error?: unknown): Promise<void> | undefined {
    const keep = (): void => this.places.hold(cid, item.message.uniqueId, item.seq);
    return parkAtHead(this.cluster?.gate, item.delivery, () => this.start(cid, item), error, keep);
  }

  /** Settles once the command was published to its owner (or answered); never rejects. */
  private async forward(cluster: RouterCluster, cid: string, item: Routed): Promise<void> {
    const { message, delivery, retried } = item;
    const { redelivered } = delivery;
    // A retry always asks the registry: the guess that failed may have come from the cache.
    let owner: Owner | undefined = retried ? undefined : cluster.cache.get(cid);
    const cached = owner !== undefined;
    if (!cached) {
      try {
        owner = await lookupOwner(cluster, cid, () => this.local.lookup(cid) !== undefined, this.clock);
      } catch (error) {
        const parked = this.park(cid, item, error);
        if (parked !== undefined) return parked;
        this.lookupFailed.note(error, { cpId: cid });
        return this.undeliverable(cid, message, 'unroutable', delivery);
      }
    }
    // The lookup may have outlived its link (closed while lapsed) or its adopted session (§5.8, §5.13).
    const parkedNow = cached ? undefined : this.park(cid, item);
    if (parkedNow !== undefined || withdrawn(delivery)) return parkedNow;
    const session = this.local.lookup(cid);
    const remote = session === undefined && owner?.nodeId !== this.nodeId ? owner : undefined;
    const held =
      session !== undefined || remote !== undefined ? this.moves.check(cid, item, remote) : undefined;
    if (held !== undefined) return held;
    if (remote === undefined) {
      // Our own entry, or none: the charge point may have connected here meanwhile.
      const offline = () => this.undeliverable(cid, message, 'offline', delivery);
      if (session !== undefined) this.owner.deliver(session, message, delivery);
      else await this.unowned.answer(cid, item, owner, offline);
      return;
    }
    if (!cached) cluster.cache.set(cid, remote);
    const entry: Forwarded = { ...item, cid, owner: remote, startedAt: this.clock.now(), timer: undefined };
    const ref = this.pending.add(entry, cluster.routeTimeoutMs, this.timedOut);
    try {
      const envelope = deliverEnvelope(this.nodeId, ref, cid, remote.epoch, redelivered, message);
      // A fresh owner reaching nobody may be resubscribing after a Redis restart (route-bus.ts).
      const unheardMs = cached ? 0 : unheardWaitMs(cluster);
      const receivers = await cluster.bus.sendHeard(remote.nodeId, envelope, unheardMs);
      // Nobody subscribed on the owner's channel: its node is gone (docs/architecture.md §5.4). A cached
      // owner may just be out of date: ask the registry once (still at the head of its line).
      if (receivers === 0 && cached) await this.retry(ref, cluster);
      else if (receivers === 0) await this.fail(ref, 'offline');
    } catch (error) {
      // Unpackable: nothing helps it; else not written (the owner drops it past the command deadline).
      const encodable = !(error instanceof EnvelopeEncodeError);
      const parked = encodable ? this.park(cid, item, error) : undefined;
      if (parked !== undefined) {
        this.pending.take(ref);
        return parked;
      }
      if (encodable) this.sendFailed.note(error, { cpId: cid, owner: remote.nodeId });
      await this.fail(ref, encodable ? 'unroutable' : 'malformed');
    }
  }

  /** The owner's `reply` envelope. */
  outcome(ref: number, outcome: 'done' | 'stale'): void {
    const { cluster } = this;
    const entry = this.pending.get(ref);
    if (entry === undefined || cluster === undefined) return;
    if (outcome === 'done') {
      this.pending.take(ref);
      cluster.metrics.routed.labels('forwarded').inc();
      cluster.metrics.routeRoundTrip.observe((this.clock.now() - entry.startedAt) / 1000);
      return entry.delivery.ack();
    }
    // The session we addressed is gone (takeover or reconnect since the lookup): look again once.
    cluster.metrics.routed.labels('stale').inc();
    cluster.cache.forget(entry.cid);
    if (entry.refused === true) {
      // `stale` a second time: answered, not routed a third time; what follows waits for the reply.
      const { cid, message, delivery } = entry;
      void this.pending.takeAnswered(ref, () => this.undeliverable(cid, message, 'offline', delivery));
      return;
    }
    this.pending.take(ref);
    // Back to its arrival place in its line; what came after it waits behind (move-fence.ts, §5.14).
    this.enter(entry.cid, routedAgain(entry, true));
  }

  /** A cached owner did not answer the PUBLISH: forget it and ask the registry. */
  private async retry(ref: number, cluster: RouterCluster): Promise<void> {
    const entry = this.pending.take(ref);
    if (entry === undefined) return;
    cluster.cache.forget(entry.cid);
    await this.forward(cluster, entry.cid, routedAgain(entry));
  }

  /**
   * The owner left with nothing owed (a quiesced `bye`, docs/architecture.md §5.5): what is still
   * pending for it never reached a charge point, so it is routed again, not answered `node_lost`.
   */
  nodeLeft(nodeId: string): void {
    const cluster = this.cluster;
    if (cluster === undefined) return;
    cluster.cache.forgetNode(nodeId);
    for (const [ref, entry] of this.pending.heldBy(nodeId)) {
      this.pending.take(ref);
      this.enter(entry.cid, routedAgain(entry));
    }
  }

  /** The owner's heartbeat expired (or it said `bye`): what it held will never be reported. */
  nodeLost(nodeId: string): void {
    this.cluster?.cache.forgetNode(nodeId);
    const held = this.pending.heldBy(nodeId);
    for (const [ref, entry] of held) {
      // A CALL the owner may still write is fenced first (docs/architecture.md §5.13).
      const verdict = entry.message.type === 2 ? this.cluster?.lostVerdict : undefined;
      const fail = (): void => void this.fail(ref, 'node_lost');
      entry.ownerLost = true;
      if (verdict === undefined) fail();
      else verdict.judge(entry, ref, () => this.pending.get(ref) === entry, fail);
    }
    if (held.length > 0)
      this.log.warn({ node: nodeId, commands: held.length }, 'answered commands held by a lost node');
  }

  /**
   * Shutdown: nothing pending may end in silence. A forward whose owner was judged lost meanwhile
   * (its mark held: maybe written, §5.13) ends `node_lost`, not `reason`, which says "not written".
   */
  failAll(reason: GatewayReason): void {
    for (const [cid, waiting] of this.order.takeWaiting())
      void this.undeliverable(cid, waiting.message, reason, waiting.delivery);
    for (const ref of this.pending.refs())
      void this.fail(ref, this.pending.get(ref)?.ownerLost ? 'node_lost' : reason);
  }

  /** Answers a pending forward; its charge point's next commands wait until the reply is out. */
  private fail(ref: number, reason: GatewayReason): Promise<void> | undefined {
    return this.pending.takeAnswered(ref, ({ cid, message, delivery, owner }) =>
      this.undeliverable(cid, message, reason, delivery, epochProtoVer(owner.epoch)),
    );
  }
}
