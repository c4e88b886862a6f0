import { labelledCounter } from './labelled-counter.js';
import { OrderMetrics } from './order-metrics.js';
import { PartitionMetrics } from './partition-metrics.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import { Gauge, type Counter, type Registry } from 'prom-client';
import { CountedHistogram } from './counted-histogram.js';

/** How a downstream message left the routing node (bounded label). */
export const ROUTE_RESULTS = [
  'local',
  'forwarded',
  'offline',
  'unroutable',
  'node_lost',
  'timeout',
  'shutdown',
  'malformed',
  'stale',
  'duplicate',
  'queue_full',
] as const;
export type RouteResult = (typeof ROUTE_RESULTS)[number];

const ROUTE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Cluster-mode metrics (docs/architecture.md §6.5), registered on the node's registry. Present only when
 * Redis is configured, so a single node's /metrics carries no always-zero cluster series.
 */
export class ClusterMetrics {
  readonly redisConnected: Gauge;
  readonly routed: Counter<'result'>;
  readonly routeRoundTrip: CountedHistogram;
  readonly routePending: Gauge;
  /** What `ocpp_gateway_route_pending` reports; the router's count once it exists. */
  private readPending: () => number = () => 0;
  readonly nodesAlive: Gauge;
  readonly adoptions: Counter<'result'>;
  readonly envelopesRejected: Counter<'reason'>;
  readonly takeovers: Counter<'side'>;
  readonly reasserted: Counter<'result'>;
  /** Silent-partition events (partition-metrics.ts). */
  readonly partition: PartitionMetrics;
  /** Per-charge-point order on the routing node (order-metrics.ts). */
  readonly order: OrderMetrics;

  constructor(registry: Registry) {
    const registers = [registry];
    this.partition = new PartitionMetrics(registry);
    this.order = new OrderMetrics(registry);
    this.redisConnected = new Gauge({
      name: 'ocpp_gateway_redis_connected',
      help: '1 while the Redis command connection is ready',
      registers,
    });
    this.routed = labelledCounter({
      name: 'ocpp_gateway_route_total',
      help: 'Downstream messages by routing result (local owner, forwarded over the route bus, or failed)',
      label: 'result',
      values: ROUTE_RESULTS,
      registry,
    });
    // Once per forwarded command: counted in plain arrays (counted-histogram.ts).
    this.routeRoundTrip = new CountedHistogram({
      name: 'ocpp_gateway_route_roundtrip_seconds',
      help: 'From forwarding a message over the route bus to the owner reporting its outcome',
      buckets: ROUTE_BUCKETS,
      registry,
    });
    // Read at scrape time: setting it on every forward and outcome cost a few % of a routing
    // node's CPU (prom-client hashes the label set on every set).
    this.routePending = new Gauge({
      name: 'ocpp_gateway_route_pending',
      help: 'Forwarded messages waiting for the owner node to report their outcome',
      registers,
      collect: () => this.routePending.set(this.readPending()),
    });
    this.nodesAlive = new Gauge({
      name: 'ocpp_gateway_cluster_nodes',
      help: 'Gateway nodes with a live heartbeat, as seen by this node (itself included)',
      registers,
    });
    this.adoptions = labelledCounter({
      name: 'ocpp_gateway_session_adoptions_total',
      help: "Dead nodes' MQTT sessions adopted by this node, by result (adopted, returned: the node came back, failed)",
      label: 'result',
      values: ['adopted', 'returned', 'failed'],
      registry,
    });
    this.envelopesRejected = labelledCounter({
      name: 'ocpp_gateway_route_envelopes_rejected_total',
      help: 'Route-bus envelopes that could not be decoded, by reason',
      label: 'reason',
      values: ['undecodable', 'version', 'shape'],
      registry,
    });
    this.takeovers = labelledCounter({
      name: 'ocpp_gateway_takeovers_total',
      help: 'Charge points that moved between nodes: "claimed" here, or "released" to another node',
      label: 'side',
      values: ['claimed', 'released'],
      registry,
    });
    this.reasserted = labelledCounter({
      name: 'ocpp_gateway_ownership_reasserted_total',
      help: 'Owner entries written back after Redis came back, or given up to a newer owner',
      label: 'result',
      values: ['written', 'given_up'],
      registry,
    });
  }

  /** `ocpp_gateway_route_pending` follows `read` from now on (cluster/pending-forwards.ts). */
  followPending(read: () => number): void {
    this.readPending = read;
  }
}

/** The router itself ends a message only for these reasons; anything else counts as offline. */
const ROUTER_REASONS: ReadonlySet<GatewayReason> = new Set([
  'unroutable',
  'malformed',
  'node_lost',
  'timeout',
  'shutdown',
  'queue_full',
]);

export function routeResult(reason: GatewayReason): RouteResult {
  return ROUTER_REASONS.has(reason) ? (reason as RouteResult) : 'offline';
}
