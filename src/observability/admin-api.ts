import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionTable } from '../edge/session-table.js';
import type { Session } from '../edge/session.js';

/**
 * The node's admin API (EMQX `/gateways/ocpp/clients`, reference §5.4), on the metrics port:
 * `GET /api/v1/clients`, `GET /api/v1/clients/{cid}`, `DELETE /api/v1/clients/{cid}` (kick:
 * close 1000 "kicked", with its disconnect event). Off unless `OCPP_GW_ADMIN_TOKEN` is set, and
 * then every call needs `Authorization: Bearer <token>`: a kick must not be one curl away.
 */
export class AdminApi {
  private readonly token: Buffer | undefined;

  constructor(
    private readonly sessions: SessionTable,
    token: string | undefined,
  ) {
    this.token = token === undefined ? undefined : Buffer.from(token);
  }

  /** Handles the request if it is an admin path; returns false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== '/api/v1/clients' && !path.startsWith('/api/v1/clients/')) return false;
    if (this.token === undefined) {
      reply(res, 404, { error: 'admin_api_disabled', fix: 'set OCPP_GW_ADMIN_TOKEN' });
      return true;
    }
    if (!this.authorized(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      reply(res, 401, { error: 'unauthorized' });
      return true;
    }
    if (path === '/api/v1/clients') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      reply(res, 200, { data: [...this.sessions.values()].map(describe) });
      return true;
    }
    let cid: string;
    try {
      cid = decodeURIComponent(path.slice('/api/v1/clients/'.length));
    } catch {
      reply(res, 400, { error: 'bad_percent_encoding' });
      return true;
    }
    const session = this.sessions.lookup(cid);
    if (session === undefined) {
      reply(res, 404, { error: 'not_connected', clientid: cid });
      return true;
    }
    if (req.method === 'GET') {
      reply(res, 200, describe(session));
    } else if (req.method === 'DELETE') {
      session.close(1000, 'kicked', 'kicked');
      res.writeHead(204).end();
    } else {
      methodNotAllowed(res, 'GET, DELETE');
    }
    return true;
  }

  private authorized(header: string | undefined): boolean {
    const token = this.token;
    if (token === undefined || header === undefined || !header.startsWith('Bearer ')) return false;
    const offered = Buffer.from(header.slice('Bearer '.length));
    return offered.length === token.length && timingSafeEqual(offered, token);
  }
}

function describe(session: Session): Record<string, unknown> {
  return {
    clientid: session.cid,
    username: session.username ?? null,
    ip_address: session.remoteAddress,
    proto_name: 'OCPP',
    proto_ver: session.protoVer,
    state: session.state,
    keepalive: session.keepaliveS,
    connected_at: new Date(session.connectedAt).toISOString(),
    last_received_at: new Date(session.lastReceivedAt).toISOString(),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  res.writeHead(405, { Allow: allow }).end();
  return true;
}
