/**
 * Why the gateway itself ended a downstream command; carried in `ErrorDetails.reason`.
 * `node_lost`: the node that held the command died before its outcome was known (docs/architecture.md §3.4; details §5.5, §5.7).
 * `malformed`: not a valid command, or one that cannot be encoded as an OCPP-J frame.
 * `too_large`: its frame would be over OCPP_GW_MAX_FRAME_BYTES, the limit on what the gateway reads.
 * `unsupported_type`: a 2.1 message type (5, 6) for a charge point whose version does not have it.
 */
export const GATEWAY_REASONS = [
  'offline',
  'queue_full',
  'timeout',
  'unroutable',
  'malformed',
  'too_large',
  'schema_violation',
  'invalid_reply',
  'backpressure',
  'disconnected',
  'replaced',
  'shutdown',
  'node_lost',
  'unsupported_type',
] as const;

export type GatewayReason = (typeof GATEWAY_REASONS)[number];
