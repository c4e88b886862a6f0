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

/** Why the gateway itself ended a downstream command; carried in `ErrorDetails.reason`. */
export type GatewayReason =
  | 'offline'
  | 'queue_full'
  | 'timeout'
  | 'unroutable'
  | 'malformed'
  | 'schema_violation'
  | 'invalid_reply'
  | 'backpressure'
  | 'disconnected'
  | 'replaced'
  | 'shutdown'
  /** The node that held the command died before its outcome was known (DESIGN §4). */
  | 'node_lost';
