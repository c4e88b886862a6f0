import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { ClientOptions } from 'ws';

/**
 * What a bench station sends beside its WebSocket handshake when the target wants security
 * profile 1 or 2 (OCPP 1.6 Security Whitepaper ed. 3 §2): HTTP Basic auth with a per-station
 * password, over TLS for profile 2, optionally resuming its last TLS session the way a station
 * that keeps its session ticket would.
 */

/**
 * The bench password of station `cid`: derived from the id so the credential file and every
 * load-generator process agree without sharing state; at least 16 bytes (1.6 AuthorizationKey,
 * 2.0.1 BasicAuthPassword lower bound) and not hex, so it is hashed as sent.
 */
export function stationPassword(cid: string): string {
  return `bench-pw-${cid}`.padEnd(16, '.');
}

/** `Authorization: Basic base64(cid:password)` (RFC 7617 §2). */
export function basicAuthorization(cid: string): string {
  return `Basic ${Buffer.from(`${cid}:${stationPassword(cid)}`).toString('base64')}`;
}

/** TLS state shared by the stations of one load-generator process. */
export interface StationTls {
  /** PEM of the CA that signed the target's certificate. */
  readonly ca: Buffer;
  /** Offer each station's last session ticket on its next connect (TLS 1.3 PSK / 1.2 ticket). */
  resume: boolean;
  /** Each station's last session, as Node hands it out on the socket's 'session' event. */
  readonly sessions: Map<string, Buffer>;
  /** Handshakes the server accepted the offered session for (no certificate, no key exchange). */
  resumed: number;
  /** Handshakes that completed in full. */
  full: number;
}

export function stationTls(ca: Buffer): StationTls {
  return { ca, resume: false, sessions: new Map(), resumed: 0, full: 0 };
}

/**
 * `ws` client options for station `cid`: its Authorization header when `basicAuth`, and with
 * `tls` a socket of our own (ws calls `createConnection` with the request options) so the
 * station can keep the session tickets the server sends and offer the last one when `resume` is
 * set. Without `resume` every connect is a full handshake, as the first connect of every
 * station after a node restart is.
 */
export function stationClientOptions(
  cid: string,
  basicAuth: boolean,
  tls: StationTls | undefined,
): ClientOptions {
  const options: ClientOptions = {};
  if (basicAuth) options.headers = { authorization: basicAuthorization(cid) };
  if (tls === undefined) return options;
  const createConnection = (request: ConnectionOptions): TLSSocket => {
    const socket = tlsConnect({
      ...request,
      // The request's `path` is the URL path; to tls.connect it would name a Unix socket.
      path: undefined,
      ca: tls.ca,
      // An IP host carries no SNI (RFC 6066 §3); ws does the same in its own tlsConnect.
      servername: '',
      session: tls.resume ? tls.sessions.get(cid) : undefined,
    });
    socket.on('session', (session: Buffer) => tls.sessions.set(cid, session));
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) tls.resumed++;
      else tls.full++;
    });
    return socket;
  };
  // ws types `createConnection` as net.createConnection; it passes the https request options.
  options.createConnection = createConnection as unknown as ClientOptions['createConnection'];
  return options;
}
