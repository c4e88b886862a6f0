/**
 * Round trips through the gateway and two peers, in one run:
 * - `roundtrip`: station CALL -> server -> MQTT -> backend -> MQTT -> server -> station, each
 *   station with one Heartbeat in flight (closed loop), at upstream QoS 1 and 2;
 * - `downstream`: backend command -> MQTT -> server -> station -> server -> MQTT -> backend, one in
 *   flight per station (closed loop), replies at QoS 1.
 * Targets: the gateway, `ocpp-rpc` (RPCServer + mqtt.js) and `peer` (minimal `ws` + mqtt.js).
 * For each: round trips/s, p50/p99, and the CPU time of the server process and of the broker per
 * round trip (utime + stime from /proc/<pid>/stat over the measured window).
 *
 *   npm run build && node dist/bench/roundtrip.js
 */
import { startBackend } from './backend/process.js';
import { startBenchBroker } from './lib/broker.js';
import { intFromEnv, listFromEnv } from './lib/env.js';
import { LatencyHistogram } from './lib/histogram.js';
import { ManagedProcess, childEnv, installCleanup, stopAll, type JsonLine } from './lib/processes.js';
import { cpuSeconds, machineBusySeconds } from './lib/proc-stats.js';
import { waitForQuietMachine } from './lib/quiet-machine.js';
import { formatInt, markdownTable, runContext, writeResult } from './lib/report.js';
import { startTarget, type TargetKind } from './lib/targets.js';
import { sleep } from '../test/harness/time.js';

type Mode = 'roundtrip-qos1' | 'roundtrip-qos2' | 'downstream';
const MODES: readonly Mode[] = ['roundtrip-qos1', 'roundtrip-qos2', 'downstream'];
const KINDS: readonly TargetKind[] = ['gateway', 'ocpp-rpc', 'peer'];
const settings = {
  modes: listFromEnv('BENCH_MODES', MODES, MODES),
  // `gateway-base` (a build of another commit, BENCH_BASE_GATEWAY_MAIN) only when asked for.
  targets: listFromEnv('BENCH_TARGETS', KINDS, [...KINDS, 'gateway-base']),
  rounds: intFromEnv('BENCH_ROUNDS', 1, 1),
  stations: intFromEnv('BENCH_CONNECTIONS', 200, 1),
  generators: intFromEnv('BENCH_CLIENT_PROCESSES', 2, 1),
  warmupMs: intFromEnv('BENCH_WARMUP_S', 2, 0) * 1000,
  durationMs: intFromEnv('BENCH_DURATION_S', 10, 1) * 1000,
};
const RTT_MAIN = new URL('./client/rtt-caller.js', import.meta.url).pathname;
installCleanup();

interface Row {
  mode: Mode;
  target: TargetKind;
  round: number;
  perS: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  serverMicros: number;
  brokerMicros: number;
  otherCores: number;
  errors: number;
  lost: number;
}

async function measure(mode: Mode, kind: TargetKind, round: number): Promise<Row> {
  // Up to 5 s: on a shared box a longer wait only delays the run; `other busy cores` shows the load.
  await waitForQuietMachine(5000);
  const qos = mode === 'roundtrip-qos2' ? 2 : 1;
  const broker = await startBenchBroker();
  const target = await startTarget(kind, { mqttUrl: broker.url, qos });
  const downstream = mode === 'downstream';
  // The backend answers boots and, in roundtrip mode, every Heartbeat. In downstream mode it also
  // sends commands from the first boot on: closed loop, one in flight per station, at a rate far
  // above what the box can do so the sender is never the limit; the window is read from /stats.
  const backend = await startBackend({
    BENCH_BACKEND_MQTT_URL: broker.url,
    BENCH_BACKEND_REPORT_S: '0',
    BENCH_BACKEND_HTTP_PORT: '0',
    ...(downstream
      ? { BENCH_BACKEND_COMMAND_RATE: '1000000', BENCH_BACKEND_COMMAND_TIMEOUT_MS: '10000' }
      : {}),
  });
  const statsUrl = `http://127.0.0.1:${String(backend.ready.httpPort)}/stats`;
  const commandStats = async (): Promise<JsonLine> =>
    ((await (await fetch(statsUrl)).json()) as { commands: JsonLine }).commands;
  const perGenerator = Math.ceil(settings.stations / settings.generators);
  const generators = Array.from(
    { length: settings.generators },
    (_, g) =>
      new ManagedProcess(
        `rtt-${g}`,
        process.execPath,
        [RTT_MAIN],
        childEnv({
          SWARM_BASE_URL: `ws://127.0.0.1:${target.wsPort}/ocpp/`,
          SWARM_ID_PREFIX: `rt${g}-`,
          SWARM_COUNT: String(perGenerator),
          SWARM_RATE_PER_S: '1000',
          SWARM_MAX_PENDING: '100',
          SWARM_DEADLINE_MS: '60000',
          RTT_MODE: downstream ? 'answer' : 'call',
          RTT_WARMUP_MS: String(settings.warmupMs),
          RTT_DURATION_MS: String(settings.durationMs),
        }),
      ),
  );
  await Promise.all(
    generators.map((p) => p.waitForJson((l) => l.type === 'swarm-ready', 90_000, 'swarm-ready')),
  );
  const resultLines = generators.map((p) =>
    p.waitForJson(
      (l) => l.type === 'rtt-result',
      settings.warmupMs + settings.durationMs + 30_000,
      'rtt-result',
    ),
  );
  for (const g of generators) g.send({ cmd: 'start' });
  await sleep(settings.warmupMs);
  const snap = async (): Promise<{
    server: number;
    broker: number;
    machine: number;
    at: number;
    answered: number;
  }> => ({
    server: cpuSeconds(target.process.pid),
    broker: cpuSeconds(broker.pid),
    machine: machineBusySeconds(),
    at: performance.now(),
    answered: downstream ? Number((await commandStats()).answered) : 0,
  });
  const before = await snap();
  await sleep(settings.durationMs);
  const after = await snap();
  const results = await Promise.all(resultLines);
  let count = 0;
  let errors = 0;
  let lost = 0;
  let p50: number | undefined;
  let p99: number | undefined;
  const done = await backend.finish();
  if (downstream) {
    const commands = done.commands as JsonLine;
    count = after.answered - before.answered;
    errors = Number(commands.errorReplied);
    lost = Number(commands.lost);
    // Over every command of the run, warm-up included.
    p50 = commands.p50Ms as number | undefined;
    p99 = commands.p99Ms as number | undefined;
  } else {
    const histogram = new LatencyHistogram();
    for (const r of results) {
      count += Number(r.completed);
      errors += Number(r.errors);
      histogram.merge(new LatencyHistogram(r.histogram as number[]));
    }
    p50 = (histogram.percentile(50) ?? 0) / 1000;
    p99 = (histogram.percentile(99) ?? 0) / 1000;
  }
  for (const g of generators) g.send({ cmd: 'close' });
  await target.process.stop();
  await broker.stop();
  await stopAll();
  const windowS = (after.at - before.at) / 1000;
  const serverCpu = after.server - before.server;
  const brokerCpu = after.broker - before.broker;
  return {
    mode,
    target: kind,
    round,
    perS: count / (settings.durationMs / 1000),
    p50Ms: p50,
    p99Ms: p99,
    serverMicros: (serverCpu / Math.max(1, count)) * 1e6,
    brokerMicros: (brokerCpu / Math.max(1, count)) * 1e6,
    otherCores: (after.machine - before.machine - serverCpu - brokerCpu) / windowS,
    errors,
    lost,
  };
}

const rows: Row[] = [];
for (let round = 1; round <= settings.rounds; round++) {
  for (const mode of settings.modes) {
    for (const kind of settings.targets) {
      process.stderr.write(`round ${round}: ${mode} ${kind}\n`);
      rows.push(await measure(mode, kind, round));
    }
  }
}
const file = writeResult('roundtrip', { context: runContext(), settings, rows });
const f1 = (n: number | undefined): string => (n === undefined ? 'n/a' : n.toFixed(1));
process.stdout.write(
  `${markdownTable(
    [
      'mode',
      'target',
      'round',
      'round trips/s',
      'p50 ms',
      'p99 ms',
      'server CPU µs per round trip',
      'broker CPU µs per round trip',
      'errors / lost',
      'other busy cores',
    ],
    rows.map((r) => [
      r.mode,
      r.target,
      String(r.round),
      formatInt(Math.round(r.perS)),
      f1(r.p50Ms),
      f1(r.p99Ms),
      f1(r.serverMicros),
      f1(r.brokerMicros),
      `${r.errors} / ${r.lost}`,
      r.otherCores.toFixed(2),
    ]),
  )}\n\nJSON: ${file}\n`,
);
process.exit(0);
