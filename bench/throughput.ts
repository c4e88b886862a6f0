/**
 * Upstream CALLs per second into MQTT on one node: the gateway beside both peers (`ws` + mqtt.js,
 * `ocpp-rpc` + mqtt.js), same run, same mosquitto settings, for each QoS in BENCH_QOS, with the
 * target's CPU time per CALL beside each rate.
 *
 * For each QoS and target: fresh mosquitto, the target publishing at that QoS, a backend that
 * boots the CPs and then unsubscribes, BENCH_CONNECTIONS CPs split over two load-generator
 * processes. Each CP keeps BENCH_WINDOW MeterValues CALLs in flight (sent, not yet seen by its
 * process's QoS 0 subscriber) for BENCH_DURATION_S; the rate counts what the subscribers receive
 * after BENCH_WARMUP_S. Then sending stops, the pipeline drains (BENCH_DRAIN_S at most) and
 * sent - received is the loss. Run: `npm run bench:throughput`.
 */
import { BootResponder } from './lib/boot-responder.js';
import { intFromEnv, listFromEnv } from './lib/env.js';
import { LatencyHistogram } from './lib/histogram.js';
import { spawnLoadGenerator, splitEvenly } from './lib/load-generators.js';
import { startBenchBroker } from './lib/broker.js';
import { cpuSeconds, machineBusySeconds } from './lib/proc-stats.js';
import { installCleanup, type ManagedProcess } from './lib/processes.js';
import { runContext, writeResult } from './lib/report.js';
import { runsTable, summaryTable, type ThroughputResult } from './lib/throughput-table.js';
import { isReport, type StreamReady, type StreamResult } from './lib/swarm-protocol.js';
import {
  benchTargetsFromEnv,
  startTarget,
  unavailableReason,
  type Target,
  type TargetKind,
} from './lib/targets.js';
import { sleep } from '../test/harness/time.js';
import { waitForQuietMachine } from './lib/quiet-machine.js';

const QOS_LEVELS = ['0', '1', '2'] as const;

const settings = {
  connections: intFromEnv('BENCH_CONNECTIONS', 200, 2),
  clientProcesses: intFromEnv('BENCH_CLIENT_PROCESSES', 2, 1),
  /** 4 x 200 CPs = 800 CALLs in flight keeps every stage busy; BENCH_WINDOW=1 is OCPP-J §4.1.1's one at a time. */
  window: intFromEnv('BENCH_WINDOW', 4, 1),
  durationMs: intFromEnv('BENCH_DURATION_S', 20, 3) * 1000,
  warmupMs: intFromEnv('BENCH_WARMUP_S', 2, 0) * 1000,
  drainMs: intFromEnv('BENCH_DRAIN_S', 10, 1) * 1000,
  qosLevels: listFromEnv('BENCH_QOS', ['1', '2'], QOS_LEVELS).map((q) => Number(q) as 0 | 1 | 2),
  targets: benchTargetsFromEnv(),
  /** The targets alternate within a round, so background load hits them alike. */
  rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
};
if (settings.warmupMs >= settings.durationMs)
  throw new Error('BENCH_WARMUP_S must be below BENCH_DURATION_S');

interface CpuSnapshot {
  readonly machine: number;
  readonly target: number;
  readonly broker: number;
  readonly load: number;
  readonly at: number;
}

function cpuSnapshot(
  target: Target,
  broker: { readonly pid: number },
  generators: readonly ManagedProcess[],
): CpuSnapshot {
  return {
    machine: machineBusySeconds(),
    target: cpuSeconds(target.process.pid),
    broker: cpuSeconds(broker.pid),
    load: generators.reduce((total, g) => total + cpuSeconds(g.pid), 0),
    at: performance.now(),
  };
}

async function measure(kind: TargetKind, qos: 0 | 1 | 2): Promise<Omit<ThroughputResult, 'round'>> {
  const broker = await startBenchBroker();
  const generators: ManagedProcess[] = [];
  let target: Target | undefined;
  let backend: BootResponder | undefined;
  try {
    target = await startTarget(kind, { mqttUrl: broker.url, qos });
    backend = await BootResponder.start(broker.url);
    const wsPort = target.wsPort;
    const readies = splitEvenly(settings.connections, settings.clientProcesses).map((count, i) => {
      const generator = spawnLoadGenerator('call-stream', `call-stream-${i}`, {
        SWARM_BASE_URL: `ws://127.0.0.1:${wsPort}/ocpp/`,
        SWARM_ID_PREFIX: `t${i}-`,
        SWARM_COUNT: String(count),
        SWARM_RATE_PER_S: '1000',
        SWARM_MAX_PENDING: '100',
        SWARM_DEADLINE_MS: '60000',
        STREAM_MQTT_URL: broker.url,
        STREAM_WINDOW: String(settings.window),
        STREAM_DURATION_MS: String(settings.durationMs),
        STREAM_WARMUP_MS: String(settings.warmupMs),
        STREAM_DRAIN_MS: String(settings.drainMs),
      });
      generators.push(generator);
      return generator.waitForJson(isReport('ready'), 90_000, 'ready');
    });
    const ready = (await Promise.all(readies)) as unknown as StreamReady[];
    // The backend's `ocpp/cp/+` subscription would double the broker's fan-out during the run.
    await backend.stop();
    backend = undefined;

    const results = Promise.all(
      generators.map((g) =>
        g.waitForJson(isReport('result'), settings.durationMs + settings.drainMs + 30_000, 'result'),
      ),
    );
    // Awaited below; a generator dying meanwhile must not surface as an unhandled rejection first.
    results.catch(() => {});
    for (const g of generators) g.send({ cmd: 'start' });
    await sleep(settings.warmupMs);
    const cpu0 = cpuSnapshot(target, broker, generators);
    await sleep(settings.durationMs - settings.warmupMs);
    const cpu1 = cpuSnapshot(target, broker, generators);
    const done = (await results) as unknown as StreamResult[];
    if (!target.process.running)
      throw new Error(`${kind} exited during the run; stderr:\n${target.process.stderr()}`);

    const sum = (pick: (r: StreamResult) => number): number => done.reduce((total, r) => total + pick(r), 0);
    const histogram = new LatencyHistogram();
    for (const r of done) histogram.merge(new LatencyHistogram(r.histogram));
    const perSecond: number[] = [];
    for (const r of done) r.perSecond.forEach((n, s) => (perSecond[s] = (perSecond[s] ?? 0) + n));
    const steady = perSecond.slice(
      Math.ceil(settings.warmupMs / 1000),
      Math.floor(settings.durationMs / 1000),
    );
    const windowS = (settings.durationMs - settings.warmupMs) / 1000;
    const cpuWindowS = (cpu1.at - cpu0.at) / 1000;
    const sent = sum((r) => r.sent);
    const received = sum((r) => r.received);
    return {
      target: kind,
      qos,
      booted: ready.reduce((total, r) => total + r.booted, 0),
      connectErrors: ready.reduce((total, r) => total + r.connectErrors, 0),
      sent,
      received,
      lost: sent - received,
      messagesPerS: sum((r) => r.receivedInWindow) / windowS,
      p50Micros: histogram.percentile(50),
      p99Micros: histogram.percentile(99),
      maxSecondRate: Math.max(...steady),
      minSecondRate: Math.min(...steady),
      targetCpuPercent: ((cpu1.target - cpu0.target) / cpuWindowS) * 100,
      brokerCpuPercent: ((cpu1.broker - cpu0.broker) / cpuWindowS) * 100,
      loadCpuPercent: ((cpu1.load - cpu0.load) / cpuWindowS) * 100,
      otherCpuPercent:
        ((cpu1.machine -
          cpu0.machine -
          (cpu1.target - cpu0.target) -
          (cpu1.broker - cpu0.broker) -
          (cpu1.load - cpu0.load)) /
          cpuWindowS) *
        100,
      closedAfterOpen: sum((r) => r.closedAfterOpen),
      unexpectedFrames: sum((r) => r.unexpectedFrames),
      firstUnexpectedFrame: done.find((r) => r.firstUnexpectedFrame !== undefined)?.firstUnexpectedFrame,
      perSecond,
    };
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await backend?.stop().catch(() => {});
    await target?.process.stop();
    await broker.stop();
  }
}

installCleanup();
const results: ThroughputResult[] = [];
for (let round = 1; round <= settings.rounds; round++) {
  for (const qos of settings.qosLevels) {
    for (const kind of settings.targets) {
      const unavailable = unavailableReason(kind);
      if (unavailable !== undefined) {
        results.push({ target: kind, qos, round, error: unavailable });
        continue;
      }
      const busyCoresBefore = await waitForQuietMachine();
      process.stderr.write(
        `round ${round}/${settings.rounds}, QoS ${qos}, ${kind}: ${settings.durationMs / 1000} s\n`,
      );
      try {
        results.push({ ...(await measure(kind, qos)), round, busyCoresBefore });
      } catch (err) {
        results.push({ target: kind, qos, round, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
const file = writeResult('throughput', { context: runContext(), settings, results });
process.stdout.write(
  `Median of ${settings.rounds} round(s):\n\n${summaryTable(results)}\n\nEvery run:\n\n${runsTable(results, settings.connections)}\n\n${file}\n`,
);
