/**
 * Benchmark baseline: the simplest honest OCPP-J <-> MQTT bridge with `ws` and mqtt.js, tuned the
 * way an experienced Node developer would tune it, so the gateway is measured against a fair
 * floor rather than a strawman. Same wire format as the gateway (docs/architecture.md §2) and the same
 * upstream QoS; everything the gateway adds on top is left out on purpose: no frame validation,
 * no per-CP call queue, no keepalive pings, no presence events, no metrics, no cluster.
 *
 * Environment: PEER_PORT (0 = any free port), PEER_HOST (127.0.0.1), PEER_MQTT_URL (required),
 * PEER_QOS (0 | 1 | 2, default 2 like the gateway).
 * Prints `{"msg":"peer ready","wsPort":N}` on stdout once it listens and MQTT is connected.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { getHeapSpaceStatistics } from 'node:v8';
import { connectAsync } from 'mqtt';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const SUBPROTOCOL = 'ocpp1.6';
const PATH_PREFIX = '/ocpp/';
const UPSTREAM = 'ocpp/cp/';
const DOWNSTREAM = 'ocpp/cs/';
/** The gateway's default maxFrameBytes. */
const MAX_PAYLOAD_BYTES = 262_144;
const MAX_ID_LENGTH = 48;

function log(level: number, msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, ...fields, msg })}\n`);
}

const mqttUrl = process.env.PEER_MQTT_URL;
if (mqttUrl === undefined || mqttUrl === '') {
  log(60, 'PEER_MQTT_URL is required');
  process.exit(2);
}
const qosNumber = Number(process.env.PEER_QOS ?? '2');
if (qosNumber !== 0 && qosNumber !== 1 && qosNumber !== 2) {
  log(60, 'PEER_QOS must be 0, 1 or 2');
  process.exit(2);
}
const qos: 0 | 1 | 2 = qosNumber;

/** Charge point id from `/ocpp/{cid}`, with the gateway's rules (docs/architecture.md §2.1); undefined = 400. */
function cpIdFromUrl(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith(PATH_PREFIX)) return undefined;
  const raw = url.slice(PATH_PREFIX.length).split('?', 1)[0] ?? '';
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (id === '' || id.length > MAX_ID_LENGTH) return undefined;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    // `/ + #` would let one CP publish on another's topics; control characters and NUL are never ids.
    if (code < 0x20 || code === 0x7f || code === 0x2f || code === 0x2b || code === 0x23) return undefined;
  }
  return id;
}

/** `ws` hands out one Buffer per message with the default binaryType ('nodebuffer'). */
function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

function offersOcpp16(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  return header !== undefined && header.split(',').some((p) => p.trim() === SUBPROTOCOL);
}

/** EMQX-format object for an upstream OCPP-J frame; undefined for anything else (dropped). */
function upstreamMessage(frame: unknown): { topicSuffix: string; body: Record<string, unknown> } | undefined {
  if (!Array.isArray(frame)) return undefined;
  switch (frame[0]) {
    case 2:
      return {
        topicSuffix: '',
        body: { MessageTypeId: 2, UniqueId: frame[1], Action: frame[2], Payload: frame[3] },
      };
    case 3:
      return { topicSuffix: '/Reply', body: { MessageTypeId: 3, UniqueId: frame[1], Payload: frame[2] } };
    case 4:
      return {
        topicSuffix: '/Reply',
        body: {
          MessageTypeId: 4,
          UniqueId: frame[1],
          ErrorCode: frame[2],
          ErrorDescription: frame[3],
          ErrorDetails: frame[4],
        },
      };
    default:
      return undefined;
  }
}

/** OCPP-J frame for a downstream EMQX-format object; undefined for anything else (dropped). */
function downstreamFrame(message: Record<string, unknown>): unknown[] | undefined {
  switch (message.MessageTypeId) {
    case 2:
      return [2, message.UniqueId, message.Action, message.Payload];
    case 3:
      return [3, message.UniqueId, message.Payload];
    case 4:
      return [4, message.UniqueId, message.ErrorCode, message.ErrorDescription, message.ErrorDetails ?? {}];
    default:
      return undefined;
  }
}

const mqtt = await connectAsync(mqttUrl, {
  protocolVersion: 5,
  clientId: `ws-mqtt-bridge-${process.pid}`,
  clean: true,
  keepalive: 60,
});
let publishErrors = 0;
mqtt.on('error', (err) => log(50, 'mqtt error', { err: err.message }));

const sockets = new Map<string, WebSocket>();

mqtt.on('message', (topic, payload) => {
  const socket = sockets.get(topic.slice(DOWNSTREAM.length));
  if (socket === undefined) return;
  let message: unknown;
  try {
    message = JSON.parse(payload.toString('utf8'));
  } catch {
    return;
  }
  if (typeof message !== 'object' || message === null) return;
  const frame = downstreamFrame(message as Record<string, unknown>);
  if (frame !== undefined) socket.send(JSON.stringify(frame));
});
await mqtt.subscribeAsync(`${DOWNSTREAM}+`, { qos: 1 });

function onPublished(err?: Error | null): void {
  if (err === undefined || err === null) return;
  if (publishErrors++ === 0) log(40, 'publish failed', { err: err.message });
}

function onConnection(socket: WebSocket, cpId: string): void {
  const topic = `${UPSTREAM}${cpId}`;
  // Newest connection wins; the old socket is closed like the gateway's takeover.
  sockets.get(cpId)?.close(1000, 'replaced');
  sockets.set(cpId, socket);
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      socket.close(1003, 'text frames only');
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(textOf(data));
    } catch {
      return;
    }
    const message = upstreamMessage(frame);
    if (message !== undefined) {
      mqtt.publish(topic + message.topicSuffix, JSON.stringify(message.body), { qos }, onPublished);
    }
  });
  socket.on('close', () => {
    if (sockets.get(cpId) === socket) sockets.delete(cpId);
  });
  socket.on('error', () => socket.terminate());
}

const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
  maxPayload: MAX_PAYLOAD_BYTES,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

function reject(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

const server = createServer((_req, res) => {
  res.writeHead(404).end();
});
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  const cpId = cpIdFromUrl(req.url);
  if (cpId === undefined || !offersOcpp16(req)) {
    reject(socket, '400 Bad Request');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, cpId));
});

server.listen(Number(process.env.PEER_PORT ?? '0'), process.env.PEER_HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const wsPort = address !== null && typeof address === 'object' ? address.port : -1;
  log(30, 'peer ready', { wsPort });
});

// For the memory bench's breakdown of RSS; costs nothing until signalled.
process.on('SIGUSR2', () => {
  const usage = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  log(30, 'peer memory', {
    heapTotalBytes: usage.heapTotal,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
    newSpaceTotalBytes: newSpace?.space_size,
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void mqtt.endAsync().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
