/**
 * Routing-bench backend: the CSMS behind MQTT, in its own process so that its work does not
 * disturb the orchestrator's timing. Connects BACKEND_CLIENTS MQTT 5 clients, subscribes (QoS 1)
 * to `ocpp/cp/+/Reply` (shared among the clients when there are several), reports
 * `backend-ready`, and on `start` publishes ChangeAvailability CALLs at QoS 1 to `ocpp/cs/{cid}`,
 * keeping BACKEND_WINDOW in flight per CP: a command is in flight from its publish until its
 * CALLRESULT or CALLERROR with the same UniqueId arrives on the Reply topic. Round trips are timed
 * on this process's monotonic clock. After BACKEND_DURATION_MS it stops publishing, waits
 * (BACKEND_DRAIN_MS at most) for the commands still in flight, and reports; what is still pending
 * then is lost.
 *
 * With BACKEND_RATE > 0 the load is paced instead of closed: every 5 ms the backend sends its
 * share of BACKEND_RATE commands per second, each to the next CP (round robin) with fewer than
 * BACKEND_WINDOW in flight; a tick that finds none free skips the rest (`skipped`). The round
 * trip then measures latency at that rate rather than the queue of a saturated loop.
 *
 * Environment (set by bench/routing.ts): BACKEND_MQTT_URL, BACKEND_CLIENTS, BACKEND_WINDOW,
 * BACKEND_DURATION_MS, BACKEND_WARMUP_MS, BACKEND_DRAIN_MS, BACKEND_RATE (0: closed loop).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import { requiredEnv } from '../lib/env.js';
import { LatencyHistogram } from '../lib/histogram.js';
import { DOWNSTREAM_TOPIC_PREFIX, UPSTREAM_TOPIC_PREFIX } from '../lib/ocpp-frames.js';
import { emitRoutingReport, onRoutingCommand } from '../lib/routing-protocol.js';
import { sleep } from '../../test/harness/time.js';

const mqttUrl = requiredEnv('BACKEND_MQTT_URL');
const clientCount = Number(requiredEnv('BACKEND_CLIENTS'));
const windowSize = Number(requiredEnv('BACKEND_WINDOW'));
const durationMs = Number(requiredEnv('BACKEND_DURATION_MS'));
const warmupMs = Number(requiredEnv('BACKEND_WARMUP_MS'));
const drainMs = Number(requiredEnv('BACKEND_DRAIN_MS'));
const rate = Number(process.env.BACKEND_RATE ?? '0');
const PACE_MS = 5;
const REPLY_SUFFIX = '/Reply';
const REPLY_FILTER = `${UPSTREAM_TOPIC_PREFIX}+${REPLY_SUFFIX}`;

interface CommandStream {
  readonly topic: string;
  readonly client: MqttClient;
  inFlight: number;
}

interface PendingCommand {
  readonly stream: CommandStream;
  readonly sentAt: number;
}

const clients = await Promise.all(
  Array.from({ length: clientCount }, (_, i) =>
    connectAsync(mqttUrl, {
      protocolVersion: 5,
      clientId: `bench-command-backend-${process.pid}-${i}`,
      clean: true,
      reconnectPeriod: 0,
    }),
  ),
);
// mqtt.js leaves Nagle's algorithm on: a small publish written while an earlier one is not yet
// acknowledged would wait for the broker's (delayed) ACK, which is latency the bench would
// charge to the gateway.
for (const client of clients) (client.stream as Partial<Socket>).setNoDelay?.(true);
// Several clients share the replies, so each reply reaches exactly one of them; the pending map
// below is per process, so any client can complete any command.
const filter = clientCount === 1 ? REPLY_FILTER : `$share/bench-backend/${REPLY_FILTER}`;
await Promise.all(clients.map((c) => c.subscribeAsync(filter, { qos: 1 })));

const pending = new Map<string, PendingCommand>();
const histogram = new LatencyHistogram();
const perSecond: number[] = [];
const errorReasons: Record<string, number> = {};
let firstErrorReply: string | undefined;
let running = false;
let startedAt = 0;
let seq = 0;
let sent = 0;
let answered = 0;
let errorReplied = 0;
let unknownReplies = 0;
let publishErrors = 0;
let answeredInWindow = 0;
let maxMicros = 0;
let skipped = 0;

// mqtt.js calls back with null (not undefined) on success.
const onPublished = (err?: Error | null): void => {
  if (err instanceof Error) publishErrors++;
};

/** The payload is built by concatenation: the backend must not be the bottleneck. */
function publishCommand(stream: CommandStream): void {
  const uniqueId = `b${seq++}`;
  sent++;
  stream.inFlight++;
  pending.set(uniqueId, { stream, sentAt: performance.now() });
  const payload = `{"MessageTypeId":2,"UniqueId":"${uniqueId}","Action":"ChangeAvailability","Payload":{"connectorId":0,"type":"Operative"}}`;
  stream.client.publish(stream.topic, payload, { qos: 1 }, onPublished);
}

function onReply(payload: Buffer): void {
  const now = performance.now();
  let reply: { MessageTypeId?: unknown; UniqueId?: unknown; ErrorCode?: unknown; ErrorDetails?: unknown };
  try {
    reply = JSON.parse(payload.toString('utf8')) as typeof reply;
  } catch {
    unknownReplies++;
    return;
  }
  const command = typeof reply.UniqueId === 'string' ? pending.get(reply.UniqueId) : undefined;
  if (command === undefined || typeof reply.UniqueId !== 'string') {
    unknownReplies++;
    return;
  }
  pending.delete(reply.UniqueId);
  command.stream.inFlight--;
  if (reply.MessageTypeId === 3) {
    answered++;
    const sinceStart = now - startedAt;
    const second = Math.floor(sinceStart / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
    if (sinceStart >= warmupMs && sinceStart < durationMs) {
      const micros = (now - command.sentAt) * 1000;
      answeredInWindow++;
      histogram.record(micros);
      maxMicros = Math.max(maxMicros, micros);
    }
  } else {
    errorReplied++;
    const details = reply.ErrorDetails as { reason?: unknown } | undefined;
    const reason = typeof details?.reason === 'string' ? details.reason : String(reply.ErrorCode);
    errorReasons[reason] = (errorReasons[reason] ?? 0) + 1;
    firstErrorReply ??= payload.toString('utf8').slice(0, 300);
  }
  if (running && rate === 0) publishCommand(command.stream);
}

/** Paced mode: the commands due since the last tick, each to the next CP with room. */
function paced(streams: readonly CommandStream[]): () => void {
  let next = 0;
  let due = 0;
  return () => {
    due += (rate * PACE_MS) / 1000;
    for (; due >= 1; due--) {
      let tried = 0;
      while (tried < streams.length && streams[next % streams.length]!.inFlight >= windowSize) {
        next++;
        tried++;
      }
      if (tried === streams.length) {
        skipped += Math.floor(due);
        due -= Math.floor(due);
        return;
      }
      publishCommand(streams[next++ % streams.length]!);
    }
  };
}

for (const client of clients) {
  client.on('message', (topic, payload) => {
    if (topic.endsWith(REPLY_SUFFIX)) onReply(payload);
  });
}
emitRoutingReport({ type: 'backend-ready' });

async function run(cids: readonly string[]): Promise<void> {
  const streams = cids.map((cid, i): CommandStream => ({
    topic: `${DOWNSTREAM_TOPIC_PREFIX}${cid}`,
    client: clients[i % clients.length]!,
    inFlight: 0,
  }));
  running = true;
  startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  if (rate > 0) timer = setInterval(paced(streams), PACE_MS);
  else for (const stream of streams) for (let i = 0; i < windowSize; i++) publishCommand(stream);
  await sleep(durationMs);
  running = false;
  clearInterval(timer);
  const drainUntil = performance.now() + drainMs;
  while (pending.size > 0 && performance.now() < drainUntil) await sleep(50);
  emitRoutingReport({
    type: 'backend-result',
    sent,
    answered,
    errorReplied,
    errorReasons,
    firstErrorReply,
    unknownReplies,
    publishErrors,
    answeredInWindow,
    windowMs: durationMs - warmupMs,
    histogram: histogram.counts,
    maxMicros,
    skipped,
    perSecond: Array.from(perSecond, (n) => n ?? 0),
  });
}

onRoutingCommand((command) => {
  switch (command.cmd) {
    case 'start':
      void run(command.cids);
      break;
    case 'close':
      for (const client of clients) client.end(true);
      process.exit(0);
      break;
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
});
