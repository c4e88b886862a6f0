/**
 * TLS capacity (issue 10): per target (bench/lib/tls-targets.ts: the gateway's wss listener, the
 * `ws` + `node:https` peer, the gateway's plain ws listener), with Basic auth against the same
 * credential file:
 *
 * 1. BENCH_STATIONS stations from BENCH_GENERATORS load-generator processes (each on its own
 *    source address 127.0.0.(10+g), at most BENCH_MAX_PENDING connecting at once each), every one
 *    a full TLS handshake + Basic auth + a BootNotification answered Accepted: time, rate and the
 *    target's CPU per station (utime + stime from /proc/<pid>/stat);
 * 2. RSS per booted station: RSS after BENCH_SETTLE_MS idle minus RSS before the first connect,
 *    divided by the stations booted;
 * 3. the reconnect storm: BENCH_STORM stations (spread over the generators) dropped at once and
 *    all reconnecting without a rate limit (BENCH_STORM_MAX_PENDING per generator), retrying with
 *    a back-off like stations do, until every one is booted again: the time, and the target's
 *    CPU over the storm per reconnect. Over TLS the storm runs twice: first with full handshakes
 *    (the stations offer no session), then (BENCH_RESUME=1) each station offering the session
 *    ticket of its last connection.
 *
 * Run: `npm run bench:tls-capacity` (defaults: 19,000 stations, storm of 10,000).
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { intFromEnv, listFromEnv } from './lib/env.js';
import { MAX_SOCKETS_PER_PROCESS, splitEvenly } from './lib/load-generators.js';
import { counterDelta, counterSnapshot } from './lib/gateway-metrics.js';
import { ManagedProcess, childEnv, installCleanup, stopAll, type JsonLine } from './lib/processes.js';
import { cpuSeconds, peakRssBytes, rssBytes } from './lib/proc-stats.js';
import { waitForQuietMachine } from './lib/quiet-machine.js';
import { runContext, writeResult } from './lib/report.js';
import { tlsCapacityTables, type StormResult, type TlsCapacityResult } from './lib/tls-capacity-table.js';
import { TLS_TARGET_KINDS, startTlsTarget, writeCredentialFile, type TlsTarget } from './lib/tls-targets.js';
import { makeTlsFiles } from '../test/harness/tls-certs.js';
import { sleep } from '../test/harness/time.js';

const settings = {
  stations: intFromEnv('BENCH_STATIONS', 19_000, 1),
  storm: intFromEnv('BENCH_STORM', 10_000, 0),
  generators: intFromEnv('BENCH_GENERATORS', 4, 1),
  connectRatePerS: intFromEnv('BENCH_CONNECT_RATE', 2_000, 1),
  // 4 x 50 handshakes in flight keep a 2-core target busy; more only queue past uWS's 10 s HTTP
  // idle timeout on a loaded machine ("socket hang up").
  maxPendingPerGenerator: intFromEnv('BENCH_MAX_PENDING', 50, 1),
  stormMaxPendingPerGenerator: intFromEnv('BENCH_STORM_MAX_PENDING', 1_000_000, 1),
  baselineMs: intFromEnv('BENCH_BASELINE_MS', 3_000),
  settleMs: intFromEnv('BENCH_SETTLE_MS', 30_000, 1_000),
  phaseS: intFromEnv('BENCH_PHASE_S', 300, 30),
  resume: intFromEnv('BENCH_RESUME', 1) === 1,
  qos: intFromEnv('BENCH_MEMORY_QOS', 2) as 0 | 1 | 2,
  targets: listFromEnv('BENCH_TARGETS', TLS_TARGET_KINDS, TLS_TARGET_KINDS),
};
if (settings.qos > 2) throw new Error('BENCH_MEMORY_QOS must be 0, 1 or 2');
if (settings.storm > settings.stations) throw new Error('BENCH_STORM must be <= BENCH_STATIONS');
if (settings.stations > MAX_SOCKETS_PER_PROCESS || settings.generators > 200)
  throw new Error(
    `BENCH_STATIONS <= ${MAX_SOCKETS_PER_PROCESS} (one target process), BENCH_GENERATORS <= 200`,
  );
const SWARM_JS = new URL('./client/capacity-swarm.js', import.meta.url).pathname;
const shares = splitEvenly(settings.stations, settings.generators);
const stormShares = splitEvenly(settings.storm, settings.generators);
const prefix = (g: number): string => `t${g}-`;

const log = (msg: string): void => void process.stderr.write(`[${new Date().toISOString()}] ${msg}\n`);
const sum = (lines: readonly JsonLine[], key: string): number =>
  lines.reduce((total, l) => total + Number(l[key] ?? 0), 0);

function spawnGenerators(target: TlsTarget, caFile: string): ManagedProcess[] {
  return shares.map(
    (count, g) =>
      new ManagedProcess(
        `generator-${g}`,
        process.execPath,
        [SWARM_JS],
        childEnv({
          SWARM_BASE_URL: target.baseUrl,
          SWARM_ID_PREFIX: prefix(g),
          SWARM_COUNT: String(count),
          SWARM_RATE_PER_S: String(Math.ceil(settings.connectRatePerS / settings.generators)),
          SWARM_MAX_PENDING: String(settings.maxPendingPerGenerator),
          SWARM_DEADLINE_MS: String(settings.phaseS * 1000),
          SWARM_STORM_DEADLINE_MS: String(settings.phaseS * 1000),
          SWARM_STORM_MAX_PENDING: String(settings.stormMaxPendingPerGenerator),
          SWARM_LOCAL_ADDRESS: `127.0.0.${10 + g}`,
          SWARM_BASIC_AUTH: '1',
          ...(target.tls ? { SWARM_TLS_CA_FILE: caFile } : {}),
        }),
      ),
  );
}

/** Drops each generator's storm share at once and waits until all are booted again. */
async function storm(target: TlsTarget, generators: ManagedProcess[], resume: boolean): Promise<StormResult> {
  const upgrades = async (): Promise<Record<string, number> | undefined> =>
    target.httpPort === undefined
      ? undefined
      : counterSnapshot([target.httpPort], ['ocpp_gateway_upgrades_total']).catch(() => undefined);
  const upgradesBefore = await upgrades();
  const cpu = cpuSeconds(target.pid);
  const done = generators.map((g) =>
    g.waitForJson((l) => l.type === 'storm-done', settings.phaseS * 1000 + 30_000, 'storm-done'),
  );
  generators.forEach((g, i) => g.send({ cmd: 'storm', count: stormShares[i], resume }));
  const lines = await Promise.all(done);
  const cpuS = cpuSeconds(target.pid) - cpu;
  const rebooted = sum(lines, 'booted');
  const upgradesAfter = await upgrades();
  return {
    resume,
    dropped: sum(lines, 'dropped'),
    rebooted,
    retries: sum(lines, 'retries'),
    connectErrors: sum(lines, 'connectErrors'),
    bootPending: sum(lines, 'bootPending'),
    tlsFull: sum(lines, 'tlsFull'),
    tlsResumed: sum(lines, 'tlsResumed'),
    seconds: Math.max(...lines.map((l) => Number(l.elapsedMs))) / 1000,
    targetCpuS: cpuS,
    cpuPerReconnectUs: rebooted === 0 ? undefined : (cpuS / rebooted) * 1e6,
    firstError: lines.map((l) => l.firstError).find((e) => e !== undefined) as string | undefined,
    upgrades:
      upgradesBefore === undefined || upgradesAfter === undefined
        ? undefined
        : counterDelta(upgradesBefore, upgradesAfter),
  };
}

async function measure(target: TlsTarget, caFile: string): Promise<Omit<TlsCapacityResult, 'kind'>> {
  await sleep(settings.baselineMs);
  const baselineRss = rssBytes(target.pid);
  const cpu = cpuSeconds(target.pid);
  const generators = spawnGenerators(target, caFile);
  try {
    const ready = await Promise.all(
      generators.map((g) =>
        g.waitForJson((l) => l.type === 'swarm-ready', settings.phaseS * 1000 + 30_000, 'swarm-ready'),
      ),
    );
    const connectS = Math.max(...ready.map((l) => Number(l.elapsedMs))) / 1000;
    const connectCpuS = cpuSeconds(target.pid) - cpu;
    const booted = sum(ready, 'booted');
    log(`${target.kind}: ${booted} booted in ${connectS.toFixed(1)} s, settling`);
    await sleep(settings.settleMs);
    const dead = target.deadReason();
    if (dead !== undefined) throw new Error(dead);
    const heldRss = rssBytes(target.pid);
    const result = {
      requested: settings.stations,
      booted,
      connectErrors: sum(ready, 'connectErrors'),
      bootPending: sum(ready, 'bootPending'),
      closedAfterOpen: sum(ready, 'closedAfterOpen'),
      firstError: ready.map((l) => l.firstError).find((e) => e !== undefined) as string | undefined,
      tlsFull: sum(ready, 'tlsFull'),
      connectS,
      connectCpuS,
      cpuPerConnectUs: booted === 0 ? undefined : (connectCpuS / booted) * 1e6,
      baselineRss,
      heldRss,
      peakRss: peakRssBytes(target.pid),
      bytesPerStation: booted === 0 ? undefined : (heldRss - baselineRss) / booted,
      storms: [] as StormResult[],
    };
    if (settings.storm > 0) {
      for (const resume of target.tls && settings.resume ? [false, true] : [false]) {
        log(`${target.kind}: storm of ${settings.storm}${resume ? ', resuming sessions' : ''}`);
        result.storms.push(await storm(target, generators, resume));
        await sleep(3_000);
      }
    }
    return result;
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
  }
}

installCleanup();
const loadBefore = loadavg();
const files = makeTlsFiles();
const dir = mkdtempSync(join(tmpdir(), 'bench-tls-capacity-'));
const cids = shares.flatMap((count, g) => Array.from({ length: count }, (_, i) => `${prefix(g)}${i}`));
const authFile = writeCredentialFile(dir, cids);
const results: TlsCapacityResult[] = [];
for (const kind of settings.targets) {
  const busyCores = await waitForQuietMachine(20_000);
  log(`${kind}: starting (machine busy ${busyCores.toFixed(2)} cores before)`);
  let target: TlsTarget | undefined;
  try {
    target = await startTlsTarget(kind, files, authFile, settings.qos);
    results.push({ kind, ...(await measure(target, files.caCert)) });
  } catch (err) {
    results.push({ kind, error: err instanceof Error ? err.message : String(err) });
  } finally {
    await target?.stop();
  }
}
await stopAll();
const file = writeResult('tls-capacity', {
  context: runContext(),
  loadBefore,
  loadAfter: loadavg(),
  settings,
  results,
});
process.stdout.write(`${tlsCapacityTables(results)}\n\n${file}\n`);
