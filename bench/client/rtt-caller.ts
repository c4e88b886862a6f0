/**
 * Round-trip bench load generator: connects and boots its stations, then on `start` either
 * (RTT_MODE=call) has every station send Heartbeat CALLs one at a time (OCPP-J 1.6 §4.1.1), each
 * timed from send to its CALLRESULT, or (RTT_MODE=answer) only answers the CALLs it receives.
 * Counts round trips completed within [RTT_WARMUP_MS, RTT_WARMUP_MS + RTT_DURATION_MS) and
 * reports `rtt-result` after RTT_WARMUP_MS + RTT_DURATION_MS.
 *
 * Environment: the SWARM_* variables of bench/lib/cp-swarm.ts, RTT_MODE, RTT_WARMUP_MS, RTT_DURATION_MS.
 */
import { createInterface } from 'node:readline';
import { connectAndBoot, swarmOptionsFromEnv, type SimulatedCp } from '../lib/cp-swarm.js';
import { requiredEnv } from '../lib/env.js';
import { LatencyHistogram } from '../lib/histogram.js';
import { emptyBootCounts } from '../lib/swarm-protocol.js';

const mode = requiredEnv('RTT_MODE');
const warmupMs = Number(requiredEnv('RTT_WARMUP_MS'));
const durationMs = Number(requiredEnv('RTT_DURATION_MS'));
const OPEN = 1;

function emit(report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

const histogram = new LatencyHistogram();
let startedAt = 0;
let running = false;
let completed = 0;
let answered = 0;
let errors = 0;

function answerCalls(cp: SimulatedCp): void {
  cp.onFrame = (text) => {
    if (!text.startsWith('[2,') || cp.socket.readyState !== OPEN) return;
    const id = /^\[2,\s*"([^"\\]*)"/.exec(text)?.[1];
    if (id === undefined) return;
    answered++;
    cp.socket.send(`[3,"${id}",{"status":"Accepted"}]`);
  };
}

/** One Heartbeat at a time; the next goes when the CALLRESULT (or a CALLERROR) arrives. */
function callLoop(cp: SimulatedCp): void {
  let seq = 0;
  let sentAt = 0;
  let pendingId = '';
  const send = (): void => {
    if (!running || cp.socket.readyState !== OPEN) return;
    pendingId = `h${seq++}`;
    sentAt = performance.now();
    cp.socket.send(`[2,"${pendingId}","Heartbeat",{}]`);
  };
  cp.onFrame = (text) => {
    if (!text.includes(`"${pendingId}"`)) return;
    const now = performance.now();
    if (text.startsWith('[3,')) {
      const since = now - startedAt;
      if (since >= warmupMs && since < warmupMs + durationMs) {
        completed++;
        histogram.record((now - sentAt) * 1000);
      }
    } else errors++;
    send();
  };
  send();
}

const counts = emptyBootCounts();
const { cps } = await connectAndBoot({ ...swarmOptionsFromEnv(), onOpen: answerCalls }, counts);
const booted = cps.filter((cp) => cp.booted);
emit({ type: 'swarm-ready', ...counts });

async function run(): Promise<void> {
  running = true;
  startedAt = performance.now();
  if (mode === 'call') for (const cp of booted) callLoop(cp);
  await new Promise((resolve) => setTimeout(resolve, warmupMs + durationMs));
  running = false;
  emit({
    type: 'rtt-result',
    completed,
    answered,
    errors,
    histogram: histogram.counts,
    closedAfterOpen: counts.closedAfterOpen,
  });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (text) => {
  const command = JSON.parse(text) as { cmd: string };
  if (command.cmd === 'start') void run();
  else if (command.cmd === 'close') {
    for (const cp of cps) cp.socket.terminate();
    process.exit(0);
  }
});
lines.on('close', () => process.exit(0));
