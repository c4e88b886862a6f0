import { AUTH_FAILURE_REASONS, type AuthFailureReason } from '../auth/auth-metrics.js';
import { HANDSHAKE_REJECTIONS, WEBSOCKET_VERSION, type HandshakeRejection } from './handshake.js';
import type { HttpResponse } from './uws.js';

/** Every answer to an upgrade that is not a 101: the handshake rules', authentication's and the node's own. */
export type RejectStatus = 400 | 401 | 404 | 426 | 429 | 503;
export type RejectReason =
  | HandshakeRejection
  | AuthFailureReason
  | 'draining'
  | 'fd_limit'
  | 'max_connections'
  | 'address_rate'
  | 'pending_upgrades';

/** Every `reason` label of `ocpp_gateway_upgrades_total{outcome="rejected"}`, so each starts at 0. */
export const REJECT_REASONS: readonly RejectReason[] = [
  ...HANDSHAKE_REJECTIONS,
  ...AUTH_FAILURE_REASONS,
  'draining',
  'fd_limit',
  'max_connections',
  'address_rate',
  'pending_upgrades',
];

const STATUS_LINES: Record<RejectStatus, string> = {
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  426: '426 Upgrade Required',
  429: '429 Too Many Requests',
  503: '503 Service Unavailable',
};

/**
 * Writes the refusal (the reason as a plain-text body) and closes the connection, so a refused
 * upgrade gives its descriptor back at once.
 */
export function writeRejection(res: HttpResponse, status: RejectStatus, reason: RejectReason): void {
  res.writeStatus(STATUS_LINES[status]);
  // RFC 6455 §4.4: name the version the server speaks; RFC 7231 §6.5.15: and the protocol.
  if (status === 426)
    res.writeHeader('Sec-WebSocket-Version', WEBSOCKET_VERSION).writeHeader('Upgrade', 'websocket');
  // RFC 7235 §3.1: a 401 names the scheme; RFC 7617 §2: Basic with its realm.
  if (status === 401) res.writeHeader('WWW-Authenticate', 'Basic realm="ocpp"');
  res.writeHeader('Content-Type', 'text/plain').end(reason, true);
}
