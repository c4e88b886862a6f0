/**
 * A model of the README's handshake table, written apart from src/edge/handshake.ts, for the
 * upgrade fuzz test: a request described piece by piece, the bytes it goes out as, and the
 * answer it must get.
 */

/** One code point of the id and how it travels in the request target. */
export type Piece =
  | { readonly kind: 'pct'; readonly char: string }
  | { readonly kind: 'raw'; readonly char: string }
  | { readonly kind: 'broken'; readonly text: string };

export interface Case {
  readonly prefix: string;
  readonly pieces: readonly Piece[];
  readonly query: string;
  readonly version: string | null;
  readonly protocolLines: readonly string[];
}

/** UTF-8 of one code point; a lone surrogate as its three generalised-UTF-8 bytes. */
export function utf8(char: string): Buffer {
  const cp = char.codePointAt(0) ?? 0;
  if (cp >= 0xd800 && cp <= 0xdfff)
    return Buffer.from([0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]);
  return Buffer.from(char, 'utf8');
}
export const percent = (bytes: Buffer): string =>
  [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

export function target(c: Case): Buffer {
  const parts = c.pieces.map((p) =>
    p.kind === 'raw' ? utf8(p.char) : Buffer.from(p.kind === 'pct' ? percent(utf8(p.char)) : p.text),
  );
  return Buffer.concat([Buffer.from(c.prefix), ...parts, Buffer.from(c.query)]);
}

/**
 * What an MQTT broker may refuse in a topic, as mosquitto 2 checks a UTF-8 string: no
 * surrogates, no U+0000-U+001F or U+007F-U+009F, no noncharacters; plus `/ + #` for an id.
 */
export function brokerAccepts(id: string): boolean {
  for (let i = 0; i < id.length;) {
    const cp = id.codePointAt(i) ?? 0;
    i += cp > 0xffff ? 2 : 1;
    if (cp === 0x2f || cp === 0x2b || cp === 0x23) return false;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false;
  }
  return true;
}

export type Expected = { status: 101; id: string } | { status: 400 | 404 | 426; reason: string };

/** The README's handshake table, in its order. */
export function expected(c: Case): Expected {
  if (c.version?.trim() !== '13') return { status: 426, reason: 'unsupported_websocket_version' };
  // The server reads the path up to the query, raw bytes decoded as UTF-8.
  const url =
    c.prefix +
    c.pieces
      .map((p) => (p.kind === 'raw' ? p.char : p.kind === 'pct' ? percent(utf8(p.char)) : p.text))
      .join('');
  if (url === '/ocpp') return { status: 400, reason: 'clientid_cannot_be_empty' };
  if (!url.startsWith('/ocpp/')) return { status: 404, reason: 'not_found' };
  let id: string;
  try {
    id = decodeURIComponent(url.slice('/ocpp/'.length));
  } catch {
    return { status: 400, reason: 'bad_percent_encoding' };
  }
  if (id === '') return { status: 400, reason: 'clientid_cannot_be_empty' };
  if ([...id].length > 48) return { status: 400, reason: 'clientid_too_long' };
  if (!brokerAccepts(id)) return { status: 400, reason: 'unsupported_clientid' };
  const offered = c.protocolLines
    .join(',')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (offered.length === 0) return { status: 400, reason: 'no_subprotocol' };
  if (!offered.includes('ocpp1.6')) return { status: 400, reason: 'no_supported_subprotocol' };
  return { status: 101, id };
}
