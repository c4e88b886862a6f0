/**
 * The node lifecycle `starting -> ready -> draining -> stopped` (docs/architecture.md §6.2): set by
 * the gateway, read by the health endpoints and exported as a metric.
 */
export type NodeState = 'starting' | 'ready' | 'draining' | 'stopped';
