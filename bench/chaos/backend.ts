/**
 * The chaos run's CSMS behind MQTT. One MQTT 5 client with a persistent session (so replies the
 * broker holds across its own restart still arrive) subscribes at QoS 1 to `ocpp/cp/+/Reply`
 * and `ocpp/cp/+`. On `start` it publishes DataTransfer CALLs at QoS 1 on `ocpp/cs/{cid}`,
 * UniqueId `{seq}.{cid}`, the per-station seq in `Payload.data` (stations
 * `{CHAOS_ID_PREFIX}0` to `{CHAOS_ID_PREFIX}{CHAOS_STATIONS - 1}`), keeping CHAOS_WINDOW in flight
 * per station and at most CHAOS_RATE per second in all (0: no cap), until CHAOS_COMMANDS are sent
 * or `quiet`. A command is in flight until its first reply, or CHAOS_SLOT_TIMEOUT_MS (then the
 * station's slot is freed; the checker decides what became of it). A PUBACK saying the broker had
 * no subscriber for a command is logged as its outcome (`broker:no_subscribers`). Every upstream CALL is
 * answered `{"status":"Accepted"}`. Everything is logged to CHAOS_LOG (bench/chaos/events.ts).
 */
import { connectAsync } from 'mqtt';
import { requiredEnv } from '../lib/env.js';
import { EventLog } from './event-log.js';
import { emit, onCommand } from './protocol.js';

const prefix = requiredEnv('CHAOS_ID_PREFIX');
const cids = Array.from({ length: Number(requiredEnv('CHAOS_STATIONS')) }, (_, i) => `${prefix}${i}`);
const windowSize = Number(requiredEnv('CHAOS_WINDOW'));
const rate = Number(requiredEnv('CHAOS_RATE'));
const limit = Number(requiredEnv('CHAOS_COMMANDS'));
const slotTimeoutMs = Number(requiredEnv('CHAOS_SLOT_TIMEOUT_MS'));
const log = new EventLog(requiredEnv('CHAOS_LOG'));

const client = await connectAsync(requiredEnv('CHAOS_MQTT_URL'), {
  protocolVersion: 5,
  clientId: `chaos-backend-${process.pid}`,
  clean: false,
  properties: { sessionExpiryInterval: 3600 },
  reconnectPeriod: 250,
});
await client.subscribeAsync(['ocpp/cp/+/Reply', 'ocpp/cp/+'], { qos: 1 });

const seqs = new Map<string, number>(cids.map((cid) => [cid, 0]));
/** uid -> [station, slot deadline]. */
const pending = new Map<string, { cid: string; deadline: number }>();
/** Stations with a free slot, in the order they got it. */
const ready: string[] = cids.flatMap((cid) => Array.from({ length: windowSize }, () => cid));
const counts = { sent: 0, replies: 0, firstReplies: 0, upstream: 0, slotTimeouts: 0, publishErrors: 0 };
let sending = false;

function publishNext(): boolean {
  const cid = ready.shift();
  if (cid === undefined) return false;
  const seq = seqs.get(cid) ?? 0;
  seqs.set(cid, seq + 1);
  const uid = `${seq}.${cid}`;
  pending.set(uid, { cid, deadline: Date.now() + slotTimeoutMs });
  counts.sent++;
  log.add({ k: 'S', t: Date.now(), cid, uid, seq });
  const body = `{"MessageTypeId":2,"UniqueId":"${uid}","Action":"DataTransfer","Payload":{"vendorId":"chaos","messageId":"seq","data":"${seq}"}}`;
  client.publish(`ocpp/cs/${cid}`, body, { qos: 1 }, (err) => {
    if (err instanceof Error) counts.publishErrors++;
  });
  return true;
}

// MQTT 5 §3.4.2.1: PUBACK 0x10 "No matching subscribers": the broker took the command and
// dropped it (mosquitto keeps no shared subscription across its own restart, so until the
// gateways subscribe again nobody matches). The backend is told: an outcome, not a loss.
const inFlight = new Map<number, string>();
client.on('packetsend', (packet) => {
  if (packet.cmd !== 'publish' || packet.messageId === undefined) return;
  const uid = /"MessageTypeId":2,"UniqueId":"([^"]+)"/.exec(String(packet.payload))?.[1];
  if (uid !== undefined) inFlight.set(packet.messageId, uid);
});
client.on('packetreceive', (packet) => {
  if (packet.cmd !== 'puback' || packet.messageId === undefined) return;
  const uid = inFlight.get(packet.messageId);
  inFlight.delete(packet.messageId);
  // Like a backend would, wait a second before the station's next command: nobody subscribed.
  if (uid !== undefined && packet.reasonCode === 0x10) outcome(uid, 'broker:no_subscribers', 1000);
});

function outcome(uid: string, kind: string, backoffMs = 0): void {
  counts.replies++;
  log.add({ k: 'R', t: Date.now(), uid, kind });
  const p = pending.get(uid);
  if (p === undefined) return;
  pending.delete(uid);
  counts.firstReplies++;
  if (backoffMs === 0) ready.push(p.cid);
  else setTimeout(() => ready.push(p.cid), backoffMs);
}

client.on('message', (topic, payload) => {
  let msg: {
    MessageTypeId?: number;
    UniqueId?: string;
    ErrorCode?: string;
    ErrorDetails?: { reason?: string };
  };
  try {
    msg = JSON.parse(payload.toString()) as typeof msg;
  } catch {
    return;
  }
  const uid = msg.UniqueId;
  if (typeof uid !== 'string') return;
  const cid = topic.split('/')[2] ?? '';
  if (!topic.endsWith('/Reply')) {
    if (msg.MessageTypeId !== 2) return;
    counts.upstream++;
    log.add({ k: 'U', t: Date.now(), cid, uid });
    client.publish(
      `ocpp/cs/${cid}`,
      `{"MessageTypeId":3,"UniqueId":"${uid}","Payload":{"status":"Accepted"}}`,
      {
        qos: 1,
      },
    );
    return;
  }
  const kind =
    msg.MessageTypeId === 3
      ? 'ok'
      : msg.ErrorDetails?.reason !== undefined
        ? `gw:${msg.ErrorDetails.reason}`
        : `cp:${msg.ErrorCode ?? '?'}`;
  outcome(uid, kind);
});

// Every 20 ms: free the slots of commands past their deadline, then publish what the rate allows.
let credit = 0;
let lastTick = Date.now();
setInterval(() => {
  const now = Date.now();
  for (const [uid, p] of pending) {
    if (p.deadline > now) continue;
    pending.delete(uid);
    counts.slotTimeouts++;
    ready.push(p.cid);
  }
  credit = rate > 0 ? Math.min(rate, credit + ((now - lastTick) * rate) / 1000) : Infinity;
  lastTick = now;
  while (sending && credit >= 1 && counts.sent < limit && publishNext()) credit--;
  if (sending && counts.sent >= limit) {
    sending = false;
    emit({ type: 'limit', sent: counts.sent });
  }
}, 20);

emit({ type: 'ready' });

onCommand(
  (command) => {
    switch (command.cmd) {
      case 'start':
        sending = true;
        break;
      case 'quiet':
        sending = false;
        break;
      case 'status':
        emit({ type: 'status', pending: pending.size, connected: client.connected, ...counts });
        break;
      case 'close':
        log.close();
        emit({ type: 'closed', ...counts });
        client.end(true, () => process.exit(0));
        break;
      case 'urls':
      case 'slow':
      case 'hop':
      case 'rebalance':
        break; // station commands
    }
  },
  () => {
    log.close();
    process.exit(0);
  },
);
