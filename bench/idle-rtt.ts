/**
 * One charge point's Heartbeat round trip through the gateway, unloaded: station -> gateway ->
 * mosquitto -> an answering backend (mqtt.js, TCP_NODELAY) -> mosquitto -> gateway -> station,
 * on loopback, one CALL at a time with an idle gap between them. For each broker
 * `set_tcp_nodelay` in BENCH_BROKER_NODELAY and each QoS in BENCH_QOS (upstream publishes and
 * the backend's replies): p50/p99 over BENCH_SAMPLES round trips, and the gateway's CPU time per
 * round trip from /proc/<pid>/stat, raw and net of the gateway's idle CPU (its timers, measured
 * for BENCH_IDLE_S with the station connected and silent). Another build:
 * BENCH_GATEWAY_MAIN=<its dist/src/main.js>, named in the table by BENCH_LABEL. The loopback
 * floor (a TCP ping-pong between two processes with the same gap) is printed beside the table.
 * Run: `npm run bench:idle-rtt`.
 */
import WebSocket from 'ws';
import { intFromEnv, listFromEnv } from './lib/env.js';
import { HeartbeatBackend } from './lib/heartbeat-backend.js';
import { startBenchBroker } from './lib/broker.js';
import { SUBPROTOCOL } from './lib/ocpp-frames.js';
import { cpuSeconds } from './lib/proc-stats.js';
import { installCleanup } from './lib/processes.js';
import { waitForQuietMachine } from './lib/quiet-machine.js';
import { markdownTable, runContext, writeResult } from './lib/report.js';
import { startTarget, unavailableReason } from './lib/targets.js';
import { tcpFloorMs } from './lib/tcp-floor.js';
import { sleep, withTimeout } from '../test/harness/time.js';

const settings = {
  samples: intFromEnv('BENCH_SAMPLES', 1000, 10),
  warmup: intFromEnv('BENCH_WARMUP', 20, 0),
  /** Longer than Linux's delayed-ACK timer (40 ms): each round trip starts from an idle link. */
  gapMs: intFromEnv('BENCH_GAP_MS', 50, 0),
  idleMs: intFromEnv('BENCH_IDLE_S', 10, 1) * 1000,
  qosLevels: listFromEnv('BENCH_QOS', ['1', '2'], ['0', '1', '2'] as const).map(
    (q) => Number(q) as 0 | 1 | 2,
  ),
  brokerNoDelay: listFromEnv('BENCH_BROKER_NODELAY', ['false', 'true'], ['false', 'true'] as const).map(
    (v) => v === 'true',
  ),
  label: process.env.BENCH_LABEL ?? 'this build',
};

interface RunResult {
  readonly build: string;
  readonly brokerNoDelay: boolean;
  readonly qos: 0 | 1 | 2;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly gatewayCpuUsPerRoundTrip: number;
  /** Net of the gateway's idle CPU over the same time. */
  readonly gatewayCpuUsPerRoundTripNet: number;
  readonly gatewayIdleCpuPercent: number;
  readonly machineBusyCoresBefore: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** A station whose round trips are timed: one CALL out, its CALLRESULT back. */
class Station {
  private waiting: { id: string; resolve: () => void } | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as unknown[];
      const waiting = this.waiting;
      if (frame[0] === 3 && waiting !== undefined && frame[1] === waiting.id) waiting.resolve();
    });
  }

  static async open(url: string): Promise<Station> {
    const ws = new WebSocket(url, [SUBPROTOCOL]);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Station(ws);
  }

  /** Milliseconds from sending the Heartbeat to receiving its answer. */
  async roundTrip(id: string): Promise<number> {
    const answered = new Promise<void>((resolve) => (this.waiting = { id, resolve }));
    const startedAt = performance.now();
    this.ws.send(`[2,"${id}","Heartbeat",{}]`);
    await withTimeout(answered, 5000, `answer to Heartbeat ${id}`);
    return performance.now() - startedAt;
  }

  close(): void {
    this.ws.terminate();
  }
}

async function run(brokerNoDelay: boolean, qos: 0 | 1 | 2): Promise<RunResult> {
  const machineBusyCoresBefore = await waitForQuietMachine(30_000, 0.5);
  const broker = await startBenchBroker({ tcpNoDelay: brokerNoDelay });
  const target = await startTarget('gateway', { mqttUrl: broker.url, qos });
  const backend = await HeartbeatBackend.start(broker.url, qos);
  const station = await Station.open(`ws://127.0.0.1:${target.wsPort}/ocpp/idle-rtt-cp`);
  try {
    for (let i = 0; i < settings.warmup; i++) {
      await station.roundTrip(`w${i}`);
      await sleep(settings.gapMs);
    }
    const idleFrom = cpuSeconds(target.process.pid);
    await sleep(settings.idleMs);
    const idleRate = (cpuSeconds(target.process.pid) - idleFrom) / (settings.idleMs / 1000);
    const times: number[] = [];
    const cpuBefore = cpuSeconds(target.process.pid);
    const startedAt = performance.now();
    for (let i = 0; i < settings.samples; i++) {
      times.push(await station.roundTrip(`s${i}`));
      await sleep(settings.gapMs);
    }
    const cpu = cpuSeconds(target.process.pid) - cpuBefore;
    const idleCpu = idleRate * ((performance.now() - startedAt) / 1000);
    const sorted = [...times].sort((a, b) => a - b);
    return {
      build: settings.label,
      brokerNoDelay,
      qos,
      samples: times.length,
      p50Ms: quantile(sorted, 0.5),
      p90Ms: quantile(sorted, 0.9),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      gatewayCpuUsPerRoundTrip: (cpu / times.length) * 1e6,
      gatewayCpuUsPerRoundTripNet: ((cpu - idleCpu) / times.length) * 1e6,
      gatewayIdleCpuPercent: idleRate * 100,
      machineBusyCoresBefore,
    };
  } finally {
    station.close();
    await backend.stop();
    await target.process.stop();
    await broker.stop();
  }
}

function table(results: readonly RunResult[]): string {
  return markdownTable(
    [
      'build',
      'broker set_tcp_nodelay',
      'QoS',
      'round trips',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'gateway CPU µs / round trip (net of idle)',
    ],
    results.map((r) => [
      r.build,
      String(r.brokerNoDelay),
      String(r.qos),
      String(r.samples),
      r.p50Ms.toFixed(2),
      r.p90Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      r.maxMs.toFixed(1),
      `${r.gatewayCpuUsPerRoundTrip.toFixed(0)} (${r.gatewayCpuUsPerRoundTripNet.toFixed(0)})`,
    ]),
  );
}

async function main(): Promise<void> {
  installCleanup();
  const missing = unavailableReason('gateway');
  if (missing !== undefined) throw new Error(missing);
  await waitForQuietMachine(30_000, 0.5);
  const floor = [...(await tcpFloorMs(Math.min(settings.samples, 300), settings.gapMs))].sort(
    (a, b) => a - b,
  );
  const floorText = `loopback floor, one TCP ping-pong between two processes ${settings.gapMs} ms apart: p50 ${quantile(floor, 0.5).toFixed(2)} ms, p99 ${quantile(floor, 0.99).toFixed(2)} ms`;
  process.stderr.write(`${floorText}\n`);
  const results: RunResult[] = [];
  for (const brokerNoDelay of settings.brokerNoDelay) {
    for (const qos of settings.qosLevels) {
      const result = await run(brokerNoDelay, qos);
      results.push(result);
      process.stderr.write(`${JSON.stringify(result)}\n`);
    }
  }
  const file = writeResult('idle-rtt', { context: runContext(), settings, floorMs: floor, results });
  process.stdout.write(`${table(results)}\n\n${floorText}\n\nresults: ${file}\n`);
}

await main();
