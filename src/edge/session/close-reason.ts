/**
 * Why a session ended; bounded, used as a metric label and in the presence event.
 * `remote`/`remote_error`: the charge point closed (normally / with another code);
 * `internal_error`: the gateway closed with 1011 because handling a frame failed.
 */
export const CLOSE_REASONS = [
  'remote',
  'remote_error',
  'internal_error',
  'keepalive_timeout',
  'idle_timeout',
  'replaced',
  'kicked',
  'shutdown',
  'backpressure',
  'binary_frame',
  'frame_too_large',
  'invalid_utf8',
  'call_rate',
] as const;

export type CloseReason = (typeof CLOSE_REASONS)[number];

/** The reason for a close the gateway did not choose itself, from the code it saw. */
export function reasonFromCode(code: number): CloseReason {
  switch (code) {
    case 1000:
    case 1001:
    case 1005: // RFC 6455 §7.4.1: the close frame carried no code
      return 'remote';
    case 1009:
      return 'frame_too_large';
    case 1007:
      return 'invalid_utf8';
    default:
      return 'remote_error';
  }
}
