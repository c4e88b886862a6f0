/** The credentials of an `Authorization: Basic` header (RFC 7617 §2), password as raw bytes. */
export interface BasicCredentials {
  readonly user: string;
  readonly password: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses `Basic <base64(user ":" password)>`. The password stays bytes: a 1.6 AuthorizationKey
 * may be sent raw (any byte values), so decoding it as text would corrupt it. The user-id cannot
 * hold a colon (RFC 7617 §2), so the first colon splits. Undefined when absent or malformed.
 */
export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined || !BASE64.test(token)) return undefined;
  const decoded = Buffer.from(token, 'base64');
  const colon = decoded.indexOf(0x3a);
  if (colon < 0) return undefined;
  return { user: decoded.subarray(0, colon).toString('utf8'), password: decoded.subarray(colon + 1) };
}
