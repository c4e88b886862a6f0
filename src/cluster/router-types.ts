import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { Delivery, DownstreamMessage } from '../ocpp/message.js';
import type { LocalSessions } from '../edge/session/session-table.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { Clock, TimerHandle } from '../io/clock.js';
import type { LapseGate } from './lapse-gate.js';
import type { OwnerCache } from './owner-cache.js';
import type { OwnerDelivery } from './owner-delivery.js';
import type { Owner, OwnershipRegistry } from './registry.js';
import type { RouteBus } from './route-bus.js';
import type { OrderLimits } from './station-order.js';

/** What cluster mode adds to the router; absent in single-node mode. */
export interface RouterCluster {
  readonly registry: OwnershipRegistry;
  /** Recent lookups; a miss or a wrong guess falls back to the registry (owner-cache.ts). */
  readonly cache: OwnerCache;
  readonly bus: RouteBus;
  readonly routeTimeoutMs: number;
  readonly metrics: ClusterMetrics;
  /** Parks what needs Redis while this node's liveness has lapsed (lapse-gate.ts). */
  readonly gate?: LapseGate;
  /** Fences a CALL before answering it `node_lost` (lost-verdict.ts); absent: at once. */
  readonly lostVerdict?: LostVerdictJudge;
  /** When an empty owner lookup proves the charge point offline (absent-owner.ts); absent: always. */
  readonly absentOwner?: AbsentOwnerPolicy;
}

/** Answers `node_lost` for a pending entry of a lost owner: at once (`fail`), or later. */
export interface LostVerdictJudge {
  judge(entry: Forwarded, ref: number, pending: () => boolean, fail: () => void): void;
}

export interface CommandRouterOptions {
  readonly nodeId: string;
  readonly local: LocalSessions;
  readonly owner: OwnerDelivery;
  readonly publisher: UpstreamPublisher;
  /** Absent in single-node mode: every charge point is local or offline. */
  readonly cluster: RouterCluster | undefined;
  readonly log: Logger;
  /** The route timeout's clock; the real one unless a test drives it. */
  readonly clock?: Clock | undefined;
  /** Caps of the per-charge-point lines; TUNING's unless a test sets them. */
  readonly order?: OrderLimits | undefined;
}

/** A command in its charge point's line on the routing node (station-order.ts). */
export interface Routed {
  readonly message: DownstreamMessage;
  readonly delivery: Delivery;
  /** Routed again (stale owner, owner left): the registry is asked, not the cache. */
  readonly retried: boolean;
  /** Arrival rank on this node: routed again, it takes back its place in its line (§5.14). */
  readonly seq: number;
  /**
   * Answered `stale` once already: a second `stale` is answered `offline`, never routed a third
   * time. A cached owner that reached nobody does not count (docs/architecture.md §5.5).
   */
  readonly refused?: boolean;
}

export interface Forwarded {
  readonly cid: string;
  readonly message: DownstreamMessage;
  readonly delivery: Delivery;
  /** Its epoch names the charge point's version, for the error reply should it fail. */
  readonly owner: Owner;
  readonly retried: boolean;
  readonly seq: number;
  readonly refused?: boolean;
  readonly startedAt: number;
  timer: TimerHandle | undefined;
  /** The owner was judged lost while this waited (router nodeLost). */
  ownerLost?: boolean;
}

/** When an empty owner lookup proves a charge point offline (absent-owner.ts). */
export interface AbsentOwnerPolicy {
  /** False within a node TTL of this node's last Redis trouble (a failed beat, a reconnect, a restart). */
  settled(): boolean;
  /** Bound of the wait for one command, whatever Redis does: the node TTL. */
  readonly maxWaitMs: number;
}
