import type { Subprotocol } from '../ocpp/versions/index.js';
import { isTopicSafe } from '../ocpp/identifiers.js';

/**
 * Upgrade rules (docs/architecture.md §2.1, §2.2), as a pure function of the request so every rule is testable
 * without a socket. Rejection bodies reuse EMQX's reason strings (docs/architecture.md §2.1).
 */

/** OCPP 2.0.1 Part 4 §3.2 caps the charging station identity at 48 characters. */
export const MAX_CP_ID_LENGTH = 48;

export type HandshakeResult =
  | {
      readonly ok: true;
      readonly cid: string;
      readonly subprotocol: Subprotocol;
      readonly echoProtocol: boolean;
    }
  | { readonly ok: false; readonly status: 400 | 404 | 426; readonly reason: HandshakeRejection };

export const HANDSHAKE_REJECTIONS = [
  'unsupported_websocket_version',
  'not_found',
  'clientid_cannot_be_empty',
  'clientid_too_long',
  'unsupported_clientid',
  'bad_percent_encoding',
  'no_subprotocol',
  'no_supported_subprotocol',
] as const;

export type HandshakeRejection = (typeof HANDSHAKE_REJECTIONS)[number];

export interface HandshakeRules {
  readonly path: string;
  readonly subprotocols: readonly Subprotocol[];
  readonly requireSubprotocol: boolean;
}

/** The only WebSocket version there is (RFC 6455 §4.1, §11.6). */
export const WEBSOCKET_VERSION = '13';

/** Everything a verdict needs from the upgrade request, copied out of uWS's `req`. */
export interface UpgradeRequest {
  /** Path as uWS reports it: without the query string, bytes decoded as UTF-8. */
  readonly url: string;
  /** Lower-case header names, repeated lines combined by {@link combineHeaderLines}. */
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * Combines repeated header lines into one comma-separated value, in order (RFC 7230 §3.2.2),
 * so a client that sends `Sec-WebSocket-Protocol` on two lines is heard in full.
 */
export function combineHeaderLines(lines: Iterable<readonly [string, string]>): Map<string, string> {
  const headers = new Map<string, string>();
  for (const [name, value] of lines) {
    const key = name.toLowerCase();
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  return headers;
}

export function decodeChargePointId(url: string, path: string): HandshakeResult | string {
  const prefix = `${path}/`;
  if (url === path) return { ok: false, status: 400, reason: 'clientid_cannot_be_empty' };
  if (!url.startsWith(prefix)) return { ok: false, status: 404, reason: 'not_found' };
  const raw = url.slice(prefix.length);
  let cid: string;
  try {
    cid = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400, reason: 'bad_percent_encoding' };
  }
  if (cid.length === 0) return { ok: false, status: 400, reason: 'clientid_cannot_be_empty' };
  if ([...cid].length > MAX_CP_ID_LENGTH) return { ok: false, status: 400, reason: 'clientid_too_long' };
  if (!isTopicSafe(cid)) return { ok: false, status: 400, reason: 'unsupported_clientid' };
  return cid;
}

/**
 * Picks the first entry of the client's list that we support, in the client's order
 * (RFC 6455 §4.2.2, EMQX `pick_subprotocol/2`); exact, case-sensitive match.
 */
export function pickSubprotocol(header: string, supported: readonly Subprotocol[]): Subprotocol | undefined {
  for (const entry of header.split(',')) {
    const offered = entry.trim();
    const match = supported.find((s) => s === offered);
    if (match !== undefined) return match;
  }
  return undefined;
}

export function checkHandshake(url: string, protocolHeader: string, rules: HandshakeRules): HandshakeResult {
  const cid = decodeChargePointId(url, rules.path);
  if (typeof cid !== 'string') return cid;
  if (protocolHeader.split(',').every((entry) => entry.trim() === '')) {
    if (rules.requireSubprotocol) return { ok: false, status: 400, reason: 'no_subprotocol' };
    // Accepted without echoing a protocol: echoing one the client did not offer breaks
    // strict clients (RFC 6455 §4.1), which EMQX 5.10 does.
    const first = rules.subprotocols[0] ?? 'ocpp1.6';
    return { ok: true, cid, subprotocol: first, echoProtocol: false };
  }
  const subprotocol = pickSubprotocol(protocolHeader, rules.subprotocols);
  if (subprotocol === undefined) return { ok: false, status: 400, reason: 'no_supported_subprotocol' };
  return { ok: true, cid, subprotocol, echoProtocol: true };
}

/**
 * The whole upgrade verdict: the WebSocket version first (a client that speaks another version
 * cannot use any path), then path, id and subprotocol. A missing or other version gets 426 with
 * `Sec-WebSocket-Version: 13` (RFC 6455 §4.2.2, §4.4); the caller adds that header.
 */
export function checkUpgrade(request: UpgradeRequest, rules: HandshakeRules): HandshakeResult {
  if ((request.headers.get('sec-websocket-version') ?? '').trim() !== WEBSOCKET_VERSION) {
    return { ok: false, status: 426, reason: 'unsupported_websocket_version' };
  }
  return checkHandshake(request.url, request.headers.get('sec-websocket-protocol') ?? '', rules);
}
