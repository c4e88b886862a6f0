/**
 * The `ws`-based peer for the TLS + Basic auth bench (bench/tls-auth.ts): an https server from
 * node:tls with a `ws` WebSocketServer on it, checking `Authorization: Basic` against the same
 * credential file with the gateway's own hash (src/auth/secret.ts), so both sides do the same
 * handshake and the same hash per upgrade. No MQTT: the figure is the TLS and auth cost. It
 * answers a BootNotification itself (Accepted), so a station is booted as behind the gateway
 * with a backend, without the MQTT round trip the gateway does on top.
 * Args: <cert> <key> <credential file>. Prints `{"msg":"peer ready","port":N}` once listening.
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
/** `[3, id, {...}]` for a BootNotification CALL (OCPP-J 1.6 §4.2.2); undefined for anything else. */
function bootReply(text: string): string | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(frame) || frame[0] !== 2 || frame[2] !== 'BootNotification') return undefined;
  const payload = { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 };
  return JSON.stringify([3, frame[1], payload]);
}

wss.on('connection', (ws) =>
  ws.on('message', (data, isBinary) => {
    const reply = isBinary || !Buffer.isBuffer(data) ? undefined : bootReply(data.toString('utf8'));
    if (reply !== undefined) ws.send(reply);
  }),
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ msg: 'peer ready', port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
