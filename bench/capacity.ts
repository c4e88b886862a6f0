/**
 * Capacity run: BENCH_STATIONS booted stations held by a 3-node cluster (Redis, mosquitto), load
 * from BENCH_GENERATORS processes, each on its own source address 127.0.0.(10+g). Then every
 * station answers one downstream command published to `ocpp/cs/{cid}` (the broker hands it to
 * any node; two thirds cross the route bus), and the reconnect storm: every station of node 0
 * drops at once and reconnects, while commands keep flowing to all stations.
 *
 * Reports connect+boot time, RSS per station per node, command p50/p99, answered / error-replied
 * / lost, storm time to all booted and gateway CPU per connect+boot. Bounded: every phase has a
 * deadline and the whole run stops itself after BENCH_MAX_MINUTES.
 *
 *   npm run build && node dist/bench/capacity.js
 */
import { connectAsync } from 'mqtt';
import { CommandSender } from './backend/command-sender.js';
import { startBackend } from './backend/process.js';
import { startBenchBroker } from './lib/broker.js';
import { counterDelta, counterSnapshot } from './lib/gateway-metrics.js';
import { intFromEnv } from './lib/env.js';
import { ManagedProcess, childEnv, installCleanup, stopAll, type JsonLine } from './lib/processes.js';
import { cpuSeconds, rssBytes } from './lib/proc-stats.js';
import { markdownTable, runContext, writeResult } from './lib/report.js';
import { startRoutingTarget } from './lib/routing-targets.js';
import { sleep } from '../test/harness/time.js';

const STATIONS = intFromEnv('BENCH_STATIONS', 57_000, 3);
const GENERATORS = intFromEnv('BENCH_GENERATORS', 6, 1);
const CONNECT_RATE = intFromEnv('BENCH_CONNECT_RATE', 3000, 1);
const COMMAND_RATE = intFromEnv('BENCH_COMMAND_RATE', 2000, 1);
const STORM_COMMAND_RATE = intFromEnv('BENCH_STORM_COMMAND_RATE', 500, 1);
const SETTLE_S = intFromEnv('BENCH_SETTLE_S', 10, 0);
const MAX_MINUTES = intFromEnv('BENCH_MAX_MINUTES', 12, 1);
const PHASE_DEADLINE_MS = 240_000;
/** How long the storm's stations get to boot again; the generators stop 30 s before this. */
const STORM_DEADLINE_MS = intFromEnv('BENCH_STORM_S', 240, 60) * 1000;
const SWARM_MAIN = new URL('./client/capacity-swarm.js', import.meta.url).pathname;

installCleanup();
const guard = setTimeout(() => {
  process.stderr.write(`capacity run over ${MAX_MINUTES} minutes: stopping\n`);
  void stopAll().finally(() => process.exit(3));
}, MAX_MINUTES * 60_000);

const log = (msg: string): void => void process.stderr.write(`[${new Date().toISOString()}] ${msg}\n`);
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
/**
 * CPU seconds of every gateway node so far. A node that died mid-run must not end the run: its
 * figure becomes NaN and the report names the dead node with the end of its stderr.
 */
const nodeCpu = (): number[] =>
  target.nodes.map((n) => {
    try {
      return cpuSeconds(n.pid);
    } catch {
      return Number.NaN;
    }
  });
const cpuSince = (before: readonly number[]): number =>
  nodeCpu().reduce((total, now, i) => total + now - before[i]!, 0);
const deadNodes: string[] = [];
const noteDeadNode = (): void => {
  const dead = target.deadNode();
  if (dead !== undefined && !deadNodes.includes(dead)) {
    deadNodes.push(dead);
    log(dead);
  }
};

const broker = await startBenchBroker();
const target = await startRoutingTarget('cluster-3', broker.url, 1);
const backend = await startBackend({ BENCH_BACKEND_MQTT_URL: broker.url, BENCH_BACKEND_REPORT_S: '0' });
/** Gateway warnings and errors by node and message: what a phase that did not finish ran into. */
const warnings: Record<string, number> = {};
for (const n of target.nodes) {
  n.onJson((l) => {
    if (Number(l.level) < 40) return;
    const key = `${n.name}: ${String(l.msg)}`;
    warnings[key] = (warnings[key] ?? 0) + 1;
  });
}
await sleep(3000);
const baselineRss = target.nodes.map((n) => rssBytes(n.pid));
log(`cluster up, baseline RSS MiB ${baselineRss.map(mib).join(' / ')}`);

// Phase 1: connect and boot.
const perGenerator = Array.from(
  { length: GENERATORS },
  (_, g) => Math.floor(STATIONS / GENERATORS) + (g < STATIONS % GENERATORS ? 1 : 0),
);
const bootCpu0 = nodeCpu();
const bootStarted = performance.now();
const generators = perGenerator.map(
  (count, g) =>
    new ManagedProcess(
      `generator-${g}`,
      process.execPath,
      [SWARM_MAIN],
      childEnv({
        SWARM_BASE_URLS: target.baseUrls.join(','),
        SWARM_ID_PREFIX: `cap${g}-`,
        SWARM_COUNT: String(count),
        SWARM_RATE_PER_S: String(Math.ceil(CONNECT_RATE / GENERATORS)),
        SWARM_MAX_PENDING: '200',
        SWARM_DEADLINE_MS: String(PHASE_DEADLINE_MS),
        SWARM_STORM_DEADLINE_MS: String(STORM_DEADLINE_MS - 30_000),
        SWARM_LOCAL_ADDRESS: `127.0.0.${10 + g}`,
      }),
    ),
);
const ready = await Promise.all(
  generators.map((p) =>
    p.waitForJson((l) => l.type === 'swarm-ready', PHASE_DEADLINE_MS + 30_000, 'swarm-ready'),
  ),
);
const bootS = (performance.now() - bootStarted) / 1000;
const bootCpu = cpuSince(bootCpu0);
noteDeadNode();
const cids = ready.flatMap((r) => r.cids as string[]);
const sum = (key: string, lines: readonly JsonLine[]): number =>
  lines.reduce((s, l) => s + Number(l[key] ?? 0), 0);
const boot = {
  requested: STATIONS,
  booted: cids.length,
  connectErrors: sum('connectErrors', ready),
  bootPending: sum('bootPending', ready),
  closedAfterOpen: sum('closedAfterOpen', ready),
  firstError: ready.map((r) => r.firstError).find((e) => e !== undefined),
  seconds: Math.round(bootS * 10) / 10,
  gatewayCpuMicrosPerBoot: Math.round((bootCpu / Math.max(1, cids.length)) * 1e6),
};
log(`booted ${cids.length} of ${STATIONS} in ${boot.seconds} s`);
await sleep(SETTLE_S * 1000);
const heldRss = target.nodes.map((n) => {
  try {
    return rssBytes(n.pid);
  } catch {
    return Number.NaN;
  }
});
const perNode = cids.length / target.nodes.length;
const memory = target.nodes.map((n, i) => ({
  node: n.name,
  baselineMiB: mib(baselineRss[i]!),
  heldMiB: mib(heldRss[i]!),
  bytesPerStation: Math.round((heldRss[i]! - baselineRss[i]!) / perNode),
}));

// Phase 2: one command per station.
const mqtt = await connectAsync(broker.url, {
  protocolVersion: 5,
  clientId: `capacity-${process.pid}`,
  clean: true,
});
/**
 * Sends commands at `rate` (at most `limit` per station; 0: no limit) until `until` resolves, then
 * waits for the replies still in flight; node CPU over the phase per command sent.
 */
async function commandPhase(
  rate: number,
  limit: number,
  until: (sender: CommandSender) => Promise<unknown>,
): Promise<Record<string, unknown>> {
  const sender = new CommandSender(mqtt, cids, {
    ratePerS: rate,
    action: 'ChangeAvailability',
    payloadJson: '{"connectorId":0,"type":"Operative"}',
    timeoutMs: 60_000,
    perStationLimit: limit,
  });
  await sender.listen('');
  const before = nodeCpu();
  sender.startSending();
  await until(sender);
  await sender.stop();
  await mqtt.unsubscribeAsync('ocpp/cp/+/Reply');
  mqtt.removeAllListeners('message');
  const stats = sender.stats();
  const cpu = cpuSince(before);
  noteDeadNode();
  return { ...stats, gatewayCpuMicrosPerCommand: Math.round((cpu / Math.max(1, stats.sent)) * 1e6) };
}

async function untilAllSent(sender: CommandSender): Promise<void> {
  const deadline = performance.now() + PHASE_DEADLINE_MS;
  while (sender.stats().sent < cids.length && performance.now() < deadline) {
    noteDeadNode();
    await sleep(250);
  }
}

const commands = await commandPhase(COMMAND_RATE, 1, untilAllSent);
log(`commands: ${JSON.stringify(commands)}`);

// Phase 3: reconnect storm of node 0's stations, commands flowing meanwhile.
/** What the nodes counted during the storm: routing outcomes, refusals, failures, takeovers. */
const STORM_COUNTERS = [
  'ocpp_gateway_route_total',
  'ocpp_gateway_upgrades_total',
  'ocpp_gateway_disconnects_total',
  'ocpp_gateway_takeovers_total',
  'ocpp_gateway_command_failures_total',
  'ocpp_gateway_session_adoptions_total',
  'ocpp_gateway_mqtt_publish_failures_total',
  'ocpp_gateway_mqtt_backlog_overflow_total',
  'ocpp_gateway_partition_events_total',
];
const countersSafe = (): Promise<Record<string, number>> =>
  counterSnapshot(target.httpPorts, STORM_COUNTERS).catch(() => ({ 'scrape failed': 1 }));
const stormCounters0 = await countersSafe();
const stormCpu0 = nodeCpu();
let stormDone: JsonLine[] = [];
const stormCommands = await commandPhase(STORM_COMMAND_RATE, 0, async () => {
  await sleep(2000);
  const offProgress = generators.map((g) =>
    g.onJson((l) => {
      if (l.type === 'storm-progress') log(`${g.name} ${JSON.stringify(l)}`);
    }),
  );
  for (const g of generators) g.send({ cmd: 'storm' });
  stormDone = await Promise.all(
    generators.map((p) => p.waitForJson((l) => l.type === 'storm-done', STORM_DEADLINE_MS, 'storm-done')),
  );
  for (const off of offProgress) off();
  await sleep(2000);
});
const stormCpu = cpuSince(stormCpu0);
const stormCounters = counterDelta(stormCounters0, await countersSafe());
noteDeadNode();
const storm = {
  dropped: sum('dropped', stormDone),
  rebooted: sum('booted', stormDone),
  connectErrors: sum('connectErrors', stormDone),
  retries: sum('retries', stormDone),
  bootTimeouts: sum('bootTimeouts', stormDone),
  bootPending: sum('bootPending', stormDone),
  secondsToAllBooted: Math.round((Math.max(...stormDone.map((d) => Number(d.elapsedMs))) / 1000) * 10) / 10,
  // Includes the commands sent meanwhile (their CPU is in gatewayCpuMicrosPerCommand of stormCommands).
  gatewayCpuMicrosPerReboot:
    sum('booted', stormDone) === 0 ? null : Math.round((stormCpu / sum('booted', stormDone)) * 1e6),
  commands: stormCommands,
  gatewayCounters: stormCounters,
};
log(`storm: ${JSON.stringify(storm)}`);
log(`gateway warnings so far: ${JSON.stringify(warnings)}`);

for (const g of generators) g.send({ cmd: 'close' });
await mqtt.endAsync();
await backend.finish();
await target.stop();
await broker.stop();
await stopAll();
clearTimeout(guard);

const result = {
  context: runContext(),
  settings: { STATIONS, GENERATORS, CONNECT_RATE, COMMAND_RATE, STORM_COMMAND_RATE, STORM_DEADLINE_MS },
  boot,
  memory,
  commands,
  storm,
  gatewayWarnings: warnings,
  deadNodes,
};
const file = writeResult('capacity', result);
const c = commands as {
  sent: number;
  answered: number;
  errorReplied: number;
  lost: number;
  p50Ms?: number;
  p99Ms?: number;
};
process.stdout.write(
  [
    markdownTable(
      ['stations booted / requested', 'connect errors', 'connect+boot s', 'gateway CPU µs per boot'],
      [
        [
          `${boot.booted} / ${boot.requested}`,
          String(boot.connectErrors),
          String(boot.seconds),
          String(boot.gatewayCpuMicrosPerBoot),
        ],
      ],
    ),
    markdownTable(
      ['node', 'baseline MiB', 'held MiB', 'bytes per station'],
      memory.map((m) => [m.node, String(m.baselineMiB), String(m.heldMiB), String(m.bytesPerStation)]),
    ),
    markdownTable(
      ['commands sent', 'answered', 'error-replied', 'lost', 'p50 ms', 'p99 ms'],
      [
        [
          String(c.sent),
          String(c.answered),
          String(c.errorReplied),
          String(c.lost),
          String(c.p50Ms),
          String(c.p99Ms),
        ],
      ],
    ),
    `storm: ${JSON.stringify(storm)}`,
    `gateway warnings and errors (node: message: count): ${JSON.stringify(warnings)}`,
    `gateway nodes that died during the run: ${deadNodes.length === 0 ? 'none' : deadNodes.join('\n')}`,
    `JSON: ${file}`,
    '',
  ].join('\n\n'),
);
process.exit(0);
