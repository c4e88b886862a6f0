/**
 * Chaos-run stations: CHAOS_STATIONS simulated OCPP 1.6 stations (bench/chaos/station.ts) in one
 * process, ids `{CHAOS_ID_PREFIX}{i}`, station i first on node i % nodes. Logs every event to
 * CHAOS_LOG (bench/chaos/events.ts), reports `ready` once every station is connected, and takes
 * the runner's commands on stdin (bench/chaos/protocol.ts).
 */
import { requiredEnv } from '../lib/env.js';
import { EventLog } from './event-log.js';
import { emit, onCommand } from './protocol.js';
import { Station, type StationContext } from './station.js';

const count = Number(requiredEnv('CHAOS_STATIONS'));
const offset = Number(process.env.CHAOS_INDEX_OFFSET ?? '0');
const prefix = requiredEnv('CHAOS_ID_PREFIX');
const upstreamMs = Number(requiredEnv('CHAOS_UPSTREAM_MS'));
const ctx: StationContext = {
  urls: requiredEnv('CHAOS_URLS').split(','),
  log: new EventLog(requiredEnv('CHAOS_LOG')),
  answerDelayMs: Number(requiredEnv('CHAOS_ANSWER_DELAY_MS')),
  upstreamTimeoutMs: 30_000,
  running: false,
  closing: false,
  counts: { connects: 0, closes: 0, reconnectFailures: 0 },
};

const stations = Array.from(
  { length: count },
  (_, i) => new Station(offset + i, `${prefix}${offset + i}`, ctx),
);

// At most 100 handshakes at a time, so the gateways' admission limits are not the test.
let next = 0;
await Promise.all(
  Array.from({ length: 100 }, async () => {
    while (next < stations.length) {
      const station = stations[next++]!;
      const home = station.index % ctx.urls.length;
      for (let attempt = 0; ; attempt++) {
        try {
          await station.connect((home + attempt) % ctx.urls.length);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  }),
);
emit({ type: 'ready', connected: stations.filter((s) => s.connected).length });

let upstreamTimer: NodeJS.Timeout | undefined;
/** Each station sends one upstream CALL per CHAOS_UPSTREAM_MS, spread evenly over the interval. */
function startUpstream(): void {
  if (upstreamMs <= 0) return;
  const tickMs = 100;
  const perTick = (stations.length * tickMs) / upstreamMs;
  let cursor = 0;
  let carry = 0;
  upstreamTimer = setInterval(() => {
    carry += perTick;
    for (; carry >= 1; carry--) stations[cursor++ % stations.length]?.sendUpstream();
  }, tickMs);
}

const select = (every: number, off: number): Station[] =>
  stations.filter((s) => s.index % every === off % every);

onCommand(
  (command) => {
    switch (command.cmd) {
      case 'urls':
        ctx.urls = command.urls;
        break;
      case 'start':
        ctx.running = true;
        startUpstream();
        break;
      case 'slow':
        for (const s of select(command.every, command.offset)) s.stall(command.ms);
        break;
      case 'hop':
        for (const s of select(command.every, command.offset)) s.hopOnNextCall = true;
        break;
      case 'rebalance':
        for (const s of select(command.of, command.node)) void s.moveTo(command.node);
        break;
      case 'quiet':
        ctx.running = false;
        clearInterval(upstreamTimer);
        break;
      case 'status':
        emit({ type: 'status', connected: stations.filter((s) => s.connected).length, ...ctx.counts });
        break;
      case 'close':
        ctx.closing = true;
        for (const s of stations) s.close();
        ctx.log.close();
        emit({ type: 'closed', ...ctx.counts });
        process.exit(0);
    }
  },
  () => {
    ctx.log.close();
    process.exit(0);
  },
);
