/**
 * Throughput-bench load generator (one of two processes). Boots its CPs, subscribes (QoS 0) to
 * exactly their upstream topics, reports `ready`, and on `start` streams MeterValues CALLs:
 * each CP keeps STREAM_WINDOW CALLs in flight, where in flight means written to the WebSocket but not
 * yet seen on MQTT by this process's subscriber. Sending and receiving in one process gives one
 * monotonic clock for the end-to-end latency, and closes the loop so the offered load follows
 * what the target delivers instead of piling up in its buffers.
 *
 * Environment (set by bench/throughput.ts): SWARM_BASE_URL, SWARM_ID_PREFIX, SWARM_COUNT,
 * SWARM_RATE_PER_S, SWARM_MAX_PENDING, SWARM_DEADLINE_MS, STREAM_MQTT_URL, STREAM_WINDOW,
 * STREAM_DURATION_MS, STREAM_WARMUP_MS, STREAM_DRAIN_MS.
 */
import { connectAsync } from 'mqtt';
import { connectAndBoot, type SimulatedCp, swarmOptionsFromEnv } from '../lib/cp-swarm.js';
import { requiredEnv } from '../lib/env.js';
import { LatencyHistogram } from '../lib/histogram.js';
import {
  UPSTREAM_TOPIC_PREFIX,
  meterValuesFrame,
  meterValuesPayload,
  meterValuesUniqueId,
} from '../lib/ocpp-frames.js';
import { emit, emptyBootCounts, onParentCommand } from '../lib/swarm-protocol.js';
import { sleep } from '../../test/harness/time.js';

const windowSize = Number(requiredEnv('STREAM_WINDOW'));
const durationMs = Number(requiredEnv('STREAM_DURATION_MS'));
const warmupMs = Number(requiredEnv('STREAM_WARMUP_MS'));
const drainMs = Number(requiredEnv('STREAM_DRAIN_MS'));

interface StreamingCp {
  readonly cp: SimulatedCp;
  sent: number;
  inFlight: number;
}

const counts = emptyBootCounts();
const { cps } = await connectAndBoot(swarmOptionsFromEnv(), counts);

const streams = new Map<string, StreamingCp>();
let unexpectedFrames = 0;
let firstUnexpectedFrame: string | undefined;
for (const cp of cps) {
  if (!cp.booted) continue;
  streams.set(`${UPSTREAM_TOPIC_PREFIX}${cp.id}`, { cp, sent: 0, inFlight: 0 });
  cp.onFrame = (text) => {
    unexpectedFrames++;
    firstUnexpectedFrame ??= text.slice(0, 300);
  };
}

// QoS 0 subscription: the broker delivers at min(publish QoS, subscription QoS), so the target's
// publishes are still QoS 1/2 end to end into the broker, and the subscriber adds no acknowledgement
// traffic of its own to the broker's single thread. Loss on that last hop would show as sent >
// received; the broker's queue (100,000) is far above the most this process can have in flight.
const subscriber = await connectAsync(requiredEnv('STREAM_MQTT_URL'), {
  protocolVersion: 5,
  clientId: `bench-stream-${process.pid}`,
  clean: true,
  reconnectPeriod: 0,
});
if (streams.size > 0) await subscriber.subscribeAsync([...streams.keys()], { qos: 0 });
emit({ type: 'ready', ...counts });

let running = false;
let startedAt = 0;
let sent = 0;
let received = 0;
let receivedInWindow = 0;
const perSecond: number[] = [];
const histogram = new LatencyHistogram();
let payloadJson = meterValuesPayload(new Date());

/** UniqueId = `<seq>.<send time in µs on this process's monotonic clock>` (≤ 36 chars, OCPP-J §4.1.3). */
function sendNext(stream: StreamingCp): void {
  const id = `${stream.sent}.${Math.round(performance.now() * 1000)}`;
  stream.sent++;
  stream.inFlight++;
  sent++;
  stream.cp.socket.send(meterValuesFrame(id, payloadJson));
}

function canSend(stream: StreamingCp): boolean {
  return running && stream.cp.socket.readyState === 1;
}

subscriber.on('message', (topic, payload) => {
  const now = performance.now();
  const stream = streams.get(topic);
  const uniqueId = stream === undefined ? undefined : meterValuesUniqueId(payload);
  if (stream === undefined || uniqueId === undefined) return;
  received++;
  stream.inFlight--;
  const sinceStart = now - startedAt;
  const second = Math.floor(sinceStart / 1000);
  perSecond[second] = (perSecond[second] ?? 0) + 1;
  if (sinceStart >= warmupMs && sinceStart < durationMs) {
    receivedInWindow++;
    const sentMicros = Number(uniqueId.slice(uniqueId.indexOf('.') + 1));
    histogram.record(now * 1000 - sentMicros);
  }
  if (canSend(stream)) sendNext(stream);
});

async function run(): Promise<void> {
  running = true;
  startedAt = performance.now();
  const refresh = setInterval(() => {
    payloadJson = meterValuesPayload(new Date());
  }, 1000);
  for (const stream of streams.values()) {
    for (let i = 0; i < windowSize && canSend(stream); i++) sendNext(stream);
  }
  await sleep(durationMs);
  running = false;
  clearInterval(refresh);
  const drainUntil = performance.now() + drainMs;
  while (received < sent && performance.now() < drainUntil) await sleep(50);
  emit({
    type: 'result',
    sent,
    received,
    receivedInWindow,
    windowMs: durationMs - warmupMs,
    histogram: histogram.counts,
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    closedAfterOpen: counts.closedAfterOpen,
    unexpectedFrames,
    firstUnexpectedFrame,
  });
}

onParentCommand((command) => {
  switch (command.cmd) {
    case 'start':
      void run();
      break;
    case 'close':
      for (const cp of cps) cp.socket.terminate();
      subscriber.end(true);
      process.exit(0);
      break;
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
});
