import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ListenError } from '../errors.js';
import type { Logger } from './logger.js';
import type { NodeState } from '../node-state.js';
import type { Metrics } from './metrics.js';

/** Extra routes on the metrics port (the admin API, src/admin/); resolves false when not theirs. */
export interface AdminRoutes {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

/** What the HTTP endpoints read from the node. */
export interface NodeStatus {
  readonly state: NodeState;
  readonly mqttConnected: boolean;
  /** undefined in single-node mode (no Redis). */
  readonly redisConnected: boolean | undefined;
  readonly connections: number;
}

/**
 * `/metrics` (Prometheus), `/healthz` (liveness: the process answers; never depends on MQTT or
 * Redis, docs/architecture.md §6.3) and `/readyz` (readiness: state `ready`, the broker and Redis connected).
 * Plain node:http: this port sees a scrape every few seconds, not the charge-point load.
 */
export class HttpServer {
  private readonly server: Server;

  constructor(
    private readonly metrics: Metrics,
    private readonly status: () => NodeStatus,
    private readonly log: Logger,
    private readonly admin: AdminRoutes,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log.error({ err: error }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (await this.admin.handle(req, res, path)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/metrics': {
        const body = await this.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
        return;
      }
      case '/healthz':
        json(res, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const s = this.status();
        const ready = s.state === 'ready' && s.mqttConnected && s.redisConnected !== false;
        json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', ...s });
        return;
      }
      default:
        json(res, 404, { error: 'not_found' });
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (error) => reject(new ListenError('HTTP (metrics/health)', port, error)));
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
