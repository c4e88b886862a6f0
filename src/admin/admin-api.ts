import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionTable } from '../edge/session/session-table.js';
import type { Session } from '../edge/session/session.js';
import { CredentialsApi } from './credentials-api.js';

/** Charge points connected to other nodes (cluster mode): found and kicked through the registry. */
export interface RemoteClients {
  /** The live node that owns `cid`; rejects when Redis is unreachable. */
  locate(cid: string): Promise<string | undefined>;
  /** Asks the owner node to close `cid`; false when no live node owns it. */
  kick(cid: string): Promise<boolean>;
}

/**
 * The node's admin API (EMQX `/gateways/ocpp/clients`, docs/architecture.md §6.4; differences §7.20), on the metrics port:
 * `GET /api/v1/clients`, `GET /api/v1/clients/{cid}`, `DELETE /api/v1/clients/{cid}` (kick:
 * close 1000 "kicked", with its disconnect event). Off unless `OCPP_GW_ADMIN_TOKEN` is set, and
 * then every call needs `Authorization: Bearer <token>`: a kick must not be one curl away.
 *
 * In cluster mode any node answers for every charge point: one connected elsewhere is described
 * by its owner node (`GET`), and kicked over the route bus (`DELETE`, 202: the owner closes it).
 */
export class AdminApi {
  private readonly token: Buffer | undefined;
  private remote: RemoteClients | undefined;
  private credentials: CredentialsApi | undefined;

  constructor(
    private readonly sessions: SessionTable,
    private readonly nodeId: string,
    token: string | undefined,
  ) {
    this.token = token === undefined ? undefined : Buffer.from(token);
  }

  /** Cluster mode: look beyond this node's own sockets. */
  setRemote(remote: RemoteClients): void {
    this.remote = remote;
  }

  /** With a credential store: `/api/v1/credentials/{cid}` (credentials-api.ts). */
  setCredentials(credentials: CredentialsApi): void {
    this.credentials = credentials;
  }

  /** Handles the request if it is an admin path; resolves to false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const credentialPath = CredentialsApi.matches(path);
    if (path !== '/api/v1/clients' && !path.startsWith('/api/v1/clients/') && !credentialPath) return false;
    if (this.token === undefined) {
      reply(res, 404, { error: 'admin_api_disabled', fix: 'set OCPP_GW_ADMIN_TOKEN' });
      return true;
    }
    if (!this.authorized(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      reply(res, 401, { error: 'unauthorized' });
      return true;
    }
    if (credentialPath) {
      if (this.credentials === undefined) reply(res, 404, { error: 'no_credential_store' });
      else await this.credentials.handle(req, res, path);
      return true;
    }
    if (path === '/api/v1/clients') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      reply(res, 200, { data: [...this.sessions.values()].map((s) => describe(s, this.nodeId)) });
      return true;
    }
    let cid: string;
    try {
      cid = decodeURIComponent(path.slice('/api/v1/clients/'.length));
    } catch {
      reply(res, 400, { error: 'bad_percent_encoding' });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'DELETE') return methodNotAllowed(res, 'GET, DELETE');
    const session = this.sessions.lookup(cid);
    if (session === undefined) {
      await this.handleRemote(req.method, cid, res);
      return true;
    }
    if (req.method === 'GET') {
      reply(res, 200, describe(session, this.nodeId));
    } else {
      session.close(1000, 'kicked', 'kicked');
      res.writeHead(204).end();
    }
    return true;
  }

  private async handleRemote(method: 'GET' | 'DELETE', cid: string, res: ServerResponse): Promise<void> {
    const remote = this.remote;
    if (remote === undefined) {
      reply(res, 404, { error: 'not_connected', clientid: cid });
      return;
    }
    try {
      if (method === 'GET') {
        const node = await remote.locate(cid);
        if (node === undefined) reply(res, 404, { error: 'not_connected', clientid: cid });
        else reply(res, 200, { clientid: cid, node, local: false });
      } else if (await remote.kick(cid)) {
        // The owner closes the socket when the envelope arrives: accepted, not yet done.
        reply(res, 202, { clientid: cid, kicked: 'requested' });
      } else {
        reply(res, 404, { error: 'not_connected', clientid: cid });
      }
    } catch {
      reply(res, 503, { error: 'registry_unavailable', clientid: cid });
    }
  }

  private authorized(header: string | undefined): boolean {
    const token = this.token;
    if (token === undefined || header === undefined || !header.startsWith('Bearer ')) return false;
    const offered = Buffer.from(header.slice('Bearer '.length));
    return offered.length === token.length && timingSafeEqual(offered, token);
  }
}

function describe(session: Session, nodeId: string): Record<string, unknown> {
  return {
    clientid: session.cid,
    node: nodeId,
    local: true,
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
