import { Counter, Gauge, type Registry } from 'prom-client';
import { labelledCounter } from './labelled-counter.js';

/** Bounds of the routing node's per-charge-point lines: one charge point's, or the node's. */
export const ORDER_BOUNDS = ['station', 'node'] as const;

/** How a take-line turn kept for the broker's copy of a given-back command ended (copy-turns.ts). */
export const COPY_TURN_OUTCOMES = ['taken', 'expired'] as const;

/**
 * The routing node's per-charge-point FIFO (docs/architecture.md §5.14), and the owner's turns kept
 * for a given-back command's copy (cluster/copy-turns.ts). No charge-point label: one gauge, two
 * counters and two counters with two bounded labels each, each initialised to 0.
 */
export class OrderMetrics {
  readonly held: Gauge;
  readonly waited: Counter;
  readonly fenced: Counter;
  readonly overflow: Counter<'bound'>;
  readonly copyTurns: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.held = new Gauge({
      name: 'ocpp_gateway_route_order_held',
      help: 'Downstream messages in per-charge-point lines on this routing node (in progress or waiting)',
      registers,
    });
    this.waited = new Counter({
      name: 'ocpp_gateway_route_order_waited_total',
      help: 'Downstream messages that waited behind an earlier one for the same charge point',
      registers,
    });
    this.fenced = new Counter({
      name: 'ocpp_gateway_route_order_fenced_total',
      help: 'Downstream messages held until those of their charge point forwarded to its previous owner had settled',
      registers,
    });
    this.overflow = labelledCounter({
      name: 'ocpp_gateway_route_order_overflow_total',
      help: 'Downstream messages answered queue_full because a per-charge-point line or the node was full',
      label: 'bound',
      values: ORDER_BOUNDS,
      registry,
    });
    this.copyTurns = labelledCounter({
      name: 'ocpp_gateway_route_order_copy_turns_total',
      help: "Owner take-line turns kept for the broker's copy of a command given back: taken by the copy, or expired (order not kept)",
      label: 'outcome',
      values: COPY_TURN_OUTCOMES,
      registry,
    });
  }
}
