import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `GET /stats` (the JSON stats line) and `GET /healthz` for the k6 scripts' teardown, a compose
 * healthcheck or a Kubernetes probe; nothing else.
 */
export async function startStatsServer(
  host: string,
  port: number,
  stats: () => Record<string, unknown>,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
    } else if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
