import type { Subprotocol } from '../ocpp/versions.js';
import { isTopicSafe } from './topic-safe.js';

/**
 * Upgrade rules (DESIGN §2), as a pure function of the request so every rule is testable
 * without a socket. Rejection bodies reuse EMQX's reason strings (reference §2.3).
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
  | { readonly ok: false; readonly status: 400 | 404; readonly reason: HandshakeRejection };

export type HandshakeRejection =
  | 'not_found'
  | 'clientid_cannot_be_empty'
  | 'clientid_too_long'
  | 'unsupported_clientid'
  | 'bad_percent_encoding'
  | 'no_subprotocol'
  | 'no_supported_subprotocol';

export interface HandshakeRules {
  readonly path: string;
  readonly subprotocols: readonly Subprotocol[];
  readonly requireSubprotocol: boolean;
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
  if (protocolHeader.trim() === '') {
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
