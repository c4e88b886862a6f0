/**
 * Memory per connected, booted charge point: the gateway beside both peers (the `ws` + mqtt.js
 * bridge and the `ocpp-rpc` RPCServer + mqtt.js bridge), same run.
 *
 * For each target: fresh mosquitto, the target, a backend that accepts every BootNotification;
 * baseline RSS after BENCH_BASELINE_MS; BENCH_CONNECTIONS CPs from BENCH_CLIENT_PROCESSES load
 * generator processes at BENCH_CONNECT_RATE per second in total, each sending a BootNotification
 * and waiting for the Accepted reply; RSS sampled once a second for BENCH_SETTLE_MS; result =
 * (last RSS - baseline) / booted CPs. Run: `npm run bench:memory`.
 */
import { BootResponder } from './lib/boot-responder.js';
import { intFromEnv } from './lib/env.js';
import { heapBreakdown } from './lib/heap-breakdown.js';
import { collectGarbage } from './lib/inspector-gc.js';
import { MAX_SOCKETS_PER_PROCESS, spawnLoadGenerator, splitEvenly } from './lib/load-generators.js';
import { startBenchBroker } from './lib/broker.js';
import { peakRssBytes, rssBytes } from './lib/proc-stats.js';
import { installCleanup, type ManagedProcess } from './lib/processes.js';
import { formatInt, runContext, writeResult } from './lib/report.js';
import { memoryTables, type MemoryResult } from './lib/memory-table.js';
import { isReport, type BootDone, type SwarmClosed } from './lib/swarm-protocol.js';
import {
  benchTargetsFromEnv,
  startTarget,
  unavailableReason,
  type Target,
  type TargetKind,
} from './lib/targets.js';
import { sleep } from '../test/harness/time.js';
import { waitForQuietMachine } from './lib/quiet-machine.js';

const settings = {
  connections: intFromEnv('BENCH_CONNECTIONS', 19_000, 1),
  clientProcesses: intFromEnv('BENCH_CLIENT_PROCESSES', 4, 1),
  connectRatePerS: intFromEnv('BENCH_CONNECT_RATE', 2_000, 1),
  /** Per load-generator process; 4 x 100 stays under the 511-entry listen backlog of both targets. */
  maxPendingPerProcess: intFromEnv('BENCH_MAX_PENDING', 100, 1),
  baselineMs: intFromEnv('BENCH_BASELINE_MS', 3_000),
  // 30 s: V8 returns the connection burst's garbage only once the process has been idle a while.
  settleMs: intFromEnv('BENCH_SETTLE_MS', 30_000, 1_000),
  qos: intFromEnv('BENCH_MEMORY_QOS', 2) as 0 | 1 | 2,
  targets: benchTargetsFromEnv(),
  /**
   * 1: start the target with the inspector, force a full GC right after the baseline and after the
   * settle samples, and report the per-CP figure between the two collected heaps as well. Off by
   * default because the early GC also changes the plain figure (startup garbage is gone before
   * the connection burst), so the headline is measured untouched.
   */
  forceGc: intFromEnv('BENCH_FORCE_GC', 0) === 1,
  /**
   * Whether V8 happens to run a major GC during the connection burst moves the result by up to
   * ~0.8 KiB per CP from one run to the next; the median of a few runs is the figure to quote.
   */
  rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
};
if (settings.qos > 2) throw new Error('BENCH_MEMORY_QOS must be 0, 1 or 2');
if (Math.ceil(settings.connections / settings.clientProcesses) > MAX_SOCKETS_PER_PROCESS) {
  throw new Error(
    `more than ${MAX_SOCKETS_PER_PROCESS} sockets per load generator: raise BENCH_CLIENT_PROCESSES`,
  );
}
if (settings.connections > MAX_SOCKETS_PER_PROCESS) {
  throw new Error(
    `the target holds every socket in one process: BENCH_CONNECTIONS <= ${MAX_SOCKETS_PER_PROCESS}`,
  );
}

async function measure(kind: TargetKind): Promise<Omit<MemoryResult, 'round'>> {
  const broker = await startBenchBroker();
  const generators: ManagedProcess[] = [];
  let target: Target | undefined;
  let backend: BootResponder | undefined;
  try {
    target = await startTarget(kind, { mqttUrl: broker.url, qos: settings.qos, inspect: settings.forceGc });
    const pid = target.process.pid;
    const wsPort = target.wsPort;
    backend = await BootResponder.start(broker.url);
    await sleep(settings.baselineMs);
    const baselineRssBytes = rssBytes(pid);
    const heapBaseline = await heapBreakdown(target);
    let baselineAfterGcBytes: number | undefined;
    if (target.inspectorUrl !== undefined) {
      await collectGarbage(target.inspectorUrl);
      await sleep(2000);
      baselineAfterGcBytes = rssBytes(pid);
    }
    process.stderr.write(`${kind}: baseline RSS ${formatInt(baselineRssBytes / 1024)} KiB, connecting\n`);

    const shares = splitEvenly(settings.connections, settings.clientProcesses);
    const deadlineMs = Math.ceil((settings.connections / settings.connectRatePerS) * 1000) + 60_000;
    const started = performance.now();
    const reports = shares.map((count, i) => {
      const generator = spawnLoadGenerator('boot-swarm', `boot-swarm-${i}`, {
        SWARM_BASE_URL: `ws://127.0.0.1:${wsPort}/ocpp/`,
        SWARM_ID_PREFIX: `m${i}-`,
        SWARM_COUNT: String(count),
        SWARM_RATE_PER_S: String(settings.connectRatePerS / settings.clientProcesses),
        SWARM_MAX_PENDING: String(settings.maxPendingPerProcess),
        SWARM_DEADLINE_MS: String(deadlineMs),
      });
      generators.push(generator);
      return generator.waitForJson(isReport('boot-done'), deadlineMs + 30_000, 'boot-done');
    });
    const done = (await Promise.all(reports)) as unknown as BootDone[];
    const wallMs = performance.now() - started;
    const sum = (pick: (d: BootDone) => number): number => done.reduce((total, d) => total + pick(d), 0);
    const booted = sum((d) => d.booted);
    process.stderr.write(`${kind}: ${booted} booted in ${(wallMs / 1000).toFixed(1)} s, settling\n`);

    const rssSamplesBytes: number[] = [];
    for (let waited = 0; waited < settings.settleMs && target.process.running; waited += 1000) {
      await sleep(1000);
      if (target.process.running) rssSamplesBytes.push(rssBytes(pid));
    }
    if (!target.process.running)
      throw new Error(`${kind} exited during the run; stderr:\n${target.process.stderr()}`);
    const rssAfterBytes = rssSamplesBytes[rssSamplesBytes.length - 1] ?? rssBytes(pid);
    const peak = peakRssBytes(pid);
    const heapAfter = await heapBreakdown(target);
    let rssAfterGcBytes: number | undefined;
    if (target.inspectorUrl !== undefined) {
      await collectGarbage(target.inspectorUrl);
      await sleep(2000);
      rssAfterGcBytes = rssBytes(pid);
    }

    const closed = (await Promise.all(
      generators.map((g) => {
        const report = g.waitForJson(isReport('closed'), 30_000, 'closed');
        g.send({ cmd: 'close' });
        return report;
      }),
    )) as unknown as SwarmClosed[];

    return {
      target: kind,
      requested: settings.connections,
      opened: sum((d) => d.opened),
      booted,
      connectErrors: sum((d) => d.connectErrors),
      bootPending: sum((d) => d.bootPending),
      firstConnectError: done.find((d) => d.firstError !== undefined)?.firstError,
      closedBeforeEnd: closed.reduce((total, c) => total + c.closedAfterOpen, 0),
      // Load generators start within milliseconds of each other; the slowest one bounds the phase.
      connectBootMs: Math.max(...done.map((d) => d.elapsedMs)),
      baselineRssBytes,
      rssSamplesBytes,
      rssAfterBytes,
      peakRssBytes: peak,
      heapBaseline,
      heapAfter,
      rssAfterGcBytes,
      baselineAfterGcBytes,
      bytesPerCpAfterGc:
        rssAfterGcBytes === undefined || baselineAfterGcBytes === undefined || booted === 0
          ? undefined
          : (rssAfterGcBytes - baselineAfterGcBytes) / booted,
      bytesPerCp: booted > 0 ? (rssAfterBytes - baselineRssBytes) / booted : undefined,
      bytesPerCpOverCollectedBaseline:
        baselineAfterGcBytes === undefined || booted === 0
          ? undefined
          : (rssAfterBytes - baselineAfterGcBytes) / booted,
    };
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await backend?.stop().catch(() => {});
    await target?.process.stop();
    await broker.stop();
  }
}

installCleanup();
const results: MemoryResult[] = [];
for (let round = 1; round <= settings.rounds; round++) {
  for (const kind of settings.targets) {
    const unavailable = unavailableReason(kind);
    if (unavailable !== undefined) {
      results.push({ target: kind, round, error: unavailable });
      continue;
    }
    try {
      await waitForQuietMachine();
      process.stderr.write(`round ${round}/${settings.rounds}, ${kind}\n`);
      results.push({ ...(await measure(kind)), round });
    } catch (err) {
      results.push({ target: kind, round, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
const file = writeResult('memory', { context: runContext(), settings, results });
process.stdout.write(`${memoryTables(results)}\n\n${file}\n`);
