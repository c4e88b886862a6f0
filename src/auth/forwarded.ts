import { isIPv4, isIPv6, type BlockList } from 'node:net';
import { parseCidrs } from '../config/auth.js';

/** How the request reached us, after trusting what a trusted proxy says and nothing else. */
export interface Origin {
  /** The client's address: the socket peer, or X-Forwarded-For as told by a trusted proxy. */
  readonly address: string;
  /** The socket peer is one of OCPP_GW_TRUSTED_PROXIES. */
  readonly viaTrustedProxy: boolean;
  /** TLS from the station: our own TLS listener, or a trusted proxy saying it terminated TLS. */
  readonly tls: boolean;
}

/** `::ffff:a.b.c.d` (and uWS's long IPv6 form of it) as the IPv4 address it stands for. */
export function normaliseAddress(address: string): string {
  const mapped = /^(?:0{1,4}:){5}ffff:|^::ffff:/i.exec(address);
  if (mapped !== null) {
    const rest = address.slice(mapped[0].length);
    if (isIPv4(rest)) return rest;
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
    if (hex?.[1] !== undefined && hex[2] !== undefined) {
      const high = parseInt(hex[1], 16);
      const low = parseInt(hex[2], 16);
      return [high >> 8, high & 255, low >> 8, low & 255].join('.');
    }
  }
  return address;
}

/**
 * Trusted proxies (OCPP_GW_TRUSTED_PROXIES). X-Forwarded-For is read from the right, skipping
 * trusted hops, so a client cannot prepend an address of its choice; from anyone else the
 * forwarding headers (and a forwarded certificate) are ignored.
 */
export class TrustedProxies {
  private readonly list: BlockList;
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.list = parseCidrs(cidrs).blockList;
    this.empty = cidrs.length === 0;
  }

  trusts(address: string): boolean {
    if (this.empty) return false;
    if (isIPv4(address)) return this.list.check(address, 'ipv4');
    if (isIPv6(address)) return this.list.check(address, 'ipv6');
    return false;
  }

  origin(peer: string, headers: ReadonlyMap<string, string>, secure: boolean): Origin {
    const address = normaliseAddress(peer);
    if (!this.trusts(address)) return { address, viaTrustedProxy: false, tls: secure };
    const hops = (headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((hop) => normaliseAddress(hop.trim()))
      .filter((hop) => isIPv4(hop) || isIPv6(hop));
    let client = address;
    for (let i = hops.length - 1; i >= 0; i--) {
      client = hops[i] ?? client;
      if (!this.trusts(client)) break;
    }
    // The last proxy's word on the scheme the station used (several values: the first hop's).
    const proto = (headers.get('x-forwarded-proto') ?? '').split(',')[0]?.trim().toLowerCase();
    return { address: client, viaTrustedProxy: true, tls: secure || proto === 'https' || proto === 'wss' };
  }
}
