/**
 * CALLERROR error codes (OCPP-J 1.6 §4.2.3, table "Valid Error Codes"). The 1.6 text spells
 * "OccurenceConstraintViolation" with one "r"; we keep the spec's spelling on the wire.
 */
export type OcppErrorCode =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'ProtocolError'
  | 'SecurityError'
  | 'FormationViolation'
  | 'PropertyConstraintViolation'
  | 'OccurenceConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError';

/**
 * Why the gateway itself ended a downstream command; carried in `ErrorDetails.reason`.
 * `node_lost`: the node that held the command died before its outcome was known (DESIGN §4).
 * `malformed`: not a valid command, or one that cannot be encoded as an OCPP-J frame.
 * `too_large`: its frame would be over OCPP_GW_MAX_FRAME_BYTES, the limit on what the gateway reads.
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
] as const;

export type GatewayReason = (typeof GATEWAY_REASONS)[number];
