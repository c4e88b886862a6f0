/**
 * Why the gateway itself ended a downstream command; carried in `ErrorDetails.reason`.
 * `node_lost`: the node that held the command died before its outcome was known (DESIGN §4).
 */
export const GATEWAY_REASONS = [
  'offline',
  'queue_full',
  'timeout',
  'unroutable',
  'malformed',
  'schema_violation',
  'invalid_reply',
  'backpressure',
  'disconnected',
  'replaced',
  'shutdown',
  'node_lost',
] as const;

export type GatewayReason = (typeof GATEWAY_REASONS)[number];
