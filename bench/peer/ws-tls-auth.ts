/**
 * The `ws`-based peer for the TLS + Basic auth bench (bench/tls-auth.ts): an https server from
 * node:tls with a `ws` WebSocketServer on it, checking `Authorization: Basic` against the same
 * credential file with the gateway's own hash (src/auth/secret.ts), so both sides do the same
 * handshake and the same hash per upgrade. No MQTT: the figure is the TLS and auth cost.
 * Args: <cert> <key> <credential file>. Prints `{"port":N}` once listening.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';
import { parseRecord } from '../../src/auth/record.js';
import { matchSecret } from '../../src/auth/secret.js';

const [certFile = '', keyFile = '', authFile = ''] = process.argv.slice(2);
const stations = (JSON.parse(readFileSync(authFile, 'utf8')) as { stations: Record<string, unknown> })
  .stations;

function allowed(url: string | undefined, header: string | undefined): boolean {
  const cid = decodeURIComponent((url ?? '').split('?')[0]?.split('/').pop() ?? '');
  const record = parseRecord(stations[cid]);
  if (record === undefined || header === undefined || !header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64');
  const colon = decoded.indexOf(0x3a);
  if (colon < 0 || decoded.subarray(0, colon).toString('utf8') !== cid) return false;
  return matchSecret(record.secrets, decoded.subarray(colon + 1)) >= 0;
}

const server = createServer({
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  minVersion: 'TLSv1.2',
});
const wss = new WebSocketServer({
  server,
  handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
  verifyClient: (info, done) => done(allowed(info.req.url, info.req.headers.authorization), 401),
});
wss.on('connection', (ws) => ws.on('message', () => undefined));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
