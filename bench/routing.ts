/**
 * Cross-node routing: commands published by a backend on `ocpp/cs/{cid}`, delivered to the CP
 * wherever it is connected, answered by it, and seen back on `ocpp/cp/{cid}/Reply`. Three targets
 * in the same run, alternating within each round: `cluster-3` (3 gateway nodes on one Redis, CPs
 * spread evenly, about 2/3 of the commands cross nodes over the route bus), `gateway-1` (one node,
 * no Redis, every command local: the baseline for the hop's cost) and `peer` (the `ws` + mqtt.js
 * bridge).
 *
 * For each target: fresh mosquitto (and Redis for the cluster), BENCH_CONNECTIONS CPs from
 * BENCH_CLIENT_PROCESSES processes that answer every CALL at once, and a backend process that
 * keeps BENCH_WINDOW ChangeAvailability CALLs (QoS 1) in flight per CP for BENCH_WARMUP_S +
 * BENCH_DURATION_S; rate and round-trip percentiles are taken over the last BENCH_DURATION_S,
 * then the backend waits BENCH_DRAIN_S at most for the rest, and what never got a reply is lost.
 * BENCH_RATE=n paces the backend at n commands/s instead (latency at a rate, not at saturation).
 * Run: `npm run bench:routing`.
 */
import { BootResponder } from './lib/boot-responder.js';
import { cpuPercent, cpuSnapshot } from './lib/cpu-window.js';
import { intFromEnv, listFromEnv } from './lib/env.js';
import { routeDelta, routeSnapshot } from './lib/gateway-metrics.js';
import { LatencyHistogram } from './lib/histogram.js';
import { MAX_SOCKETS_PER_PROCESS, spawnLoadGenerator, splitEvenly } from './lib/load-generators.js';
import { startBenchBroker } from './lib/broker.js';
import { installCleanup, type ManagedProcess } from './lib/processes.js';
import { waitForQuietMachine } from './lib/quiet-machine.js';
import { runContext, writeResult } from './lib/report.js';
import {
  isRoutingReport,
  type BackendResult,
  type ResponderDone,
  type ResponderReady,
} from './lib/routing-protocol.js';
import { routingRunsTable, routingSummaryTable, type RoutingResult } from './lib/routing-table.js';
import {
  ROUTING_KINDS,
  ALL_ROUTING_KINDS,
  routingUnavailableReason,
  startRoutingTarget,
  type RoutingKind,
  type RoutingTarget,
} from './lib/routing-targets.js';
import { sleep } from '../test/harness/time.js';

const settings = {
  connections: intFromEnv('BENCH_CONNECTIONS', 300, 3),
  clientProcesses: intFromEnv('BENCH_CLIENT_PROCESSES', 2, 1),
  backendClients: intFromEnv('BENCH_BACKEND_CLIENTS', 1, 1),
  /** OCPP-J 1.6 §4.1.1: one CALL at a time per CP; the gateway serialises any more per CP anyway. */
  window: intFromEnv('BENCH_WINDOW', 1, 1),
  // Commands per second, paced (0: closed loop, as fast as the target answers).
  rate: intFromEnv('BENCH_RATE', 0, 0),
  durationMs: intFromEnv('BENCH_DURATION_S', 15, 1) * 1000,
  warmupMs: intFromEnv('BENCH_WARMUP_S', 2, 0) * 1000,
  drainMs: intFromEnv('BENCH_DRAIN_S', 10, 1) * 1000,
  /** QoS of the targets' upstream publishes, i.e. of the replies; commands are always QoS 1. */
  replyQos: intFromEnv('BENCH_REPLY_QOS', 1) as 0 | 1 | 2,
  targets: listFromEnv('BENCH_TARGETS', ROUTING_KINDS, ALL_ROUTING_KINDS),
  rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
};
if (settings.replyQos > 2) throw new Error('BENCH_REPLY_QOS must be 0, 1 or 2');
if (Math.ceil(settings.connections / settings.clientProcesses) > MAX_SOCKETS_PER_PROCESS)
  throw new Error(
    `more than ${MAX_SOCKETS_PER_PROCESS} sockets per CP process: raise BENCH_CLIENT_PROCESSES`,
  );

async function measure(kind: RoutingKind): Promise<Omit<RoutingResult, 'round'>> {
  const broker = await startBenchBroker();
  const children: ManagedProcess[] = [];
  let target: RoutingTarget | undefined;
  let bootBackend: BootResponder | undefined;
  try {
    target = await startRoutingTarget(kind, broker.url, settings.replyQos);
    bootBackend = await BootResponder.start(broker.url);
    const baseUrls = target.baseUrls.join(',');
    const responders = splitEvenly(settings.connections, settings.clientProcesses).map((count, i) =>
      spawnLoadGenerator('call-responder', `call-responder-${i}`, {
        SWARM_BASE_URLS: baseUrls,
        SWARM_ID_PREFIX: `r${i}-`,
        SWARM_COUNT: String(count),
        SWARM_RATE_PER_S: '1000',
        SWARM_MAX_PENDING: '100',
        SWARM_DEADLINE_MS: '60000',
      }),
    );
    children.push(...responders);
    const ready = (await Promise.all(
      responders.map((r) => r.waitForJson(isRoutingReport('responder-ready'), 90_000, 'responder-ready')),
    )) as unknown as ResponderReady[];
    // Boot replies are routed too; from here on only the commands are.
    await bootBackend.stop();
    bootBackend = undefined;

    const backend = spawnLoadGenerator('command-backend', 'command-backend', {
      BACKEND_MQTT_URL: broker.url,
      BACKEND_CLIENTS: String(settings.backendClients),
      BACKEND_WINDOW: String(settings.window),
      BACKEND_DURATION_MS: String(settings.warmupMs + settings.durationMs),
      BACKEND_WARMUP_MS: String(settings.warmupMs),
      BACKEND_DRAIN_MS: String(settings.drainMs),
      BACKEND_RATE: String(settings.rate),
    });
    children.push(backend);
    await backend.waitForJson(isRoutingReport('backend-ready'), 30_000, 'backend-ready');
    const cluster = kind.startsWith('cluster');
    const routeBefore = cluster ? await routeSnapshot(target.httpPorts) : undefined;
    const runMs = settings.warmupMs + settings.durationMs;
    const result = backend.waitForJson(
      isRoutingReport('backend-result'),
      runMs + settings.drainMs + 30_000,
      'backend-result',
    );
    // Awaited below; a backend dying meanwhile must not surface as an unhandled rejection first.
    result.catch(() => {});
    const processes = {
      target: target.nodes,
      redis: target.redis === undefined ? [] : [target.redis],
      broker: [broker],
      load: children,
    };
    backend.send({ cmd: 'start', cids: ready.flatMap((r) => r.cids) });
    await sleep(settings.warmupMs);
    const cpu0 = cpuSnapshot(processes);
    await sleep(settings.durationMs);
    const cpu = cpuPercent(cpu0, cpuSnapshot(processes));
    const done = (await result) as unknown as BackendResult;
    const dead = target.deadNode();
    if (dead !== undefined) throw new Error(dead);
    const route =
      routeBefore === undefined ? undefined : routeDelta(routeBefore, await routeSnapshot(target.httpPorts));
    const closed = (await Promise.all(
      responders.map((r) => {
        const report = r.waitForJson(isRoutingReport('responder-done'), 10_000, 'responder-done');
        r.send({ cmd: 'close' });
        return report;
      }),
    )) as unknown as ResponderDone[];

    const histogram = new LatencyHistogram(done.histogram);
    const steady = done.perSecond.slice(Math.ceil(settings.warmupMs / 1000), Math.floor(runMs / 1000));
    const sumClosed = (pick: (d: ResponderDone) => number): number => closed.reduce((t, d) => t + pick(d), 0);
    return {
      target: kind,
      booted: ready.reduce((t, r) => t + r.booted, 0),
      connectErrors: ready.reduce((t, r) => t + r.connectErrors, 0),
      sent: done.sent,
      answered: done.answered,
      errorReplied: done.errorReplied,
      lost: done.sent - done.answered - done.errorReplied,
      errorReasons: done.errorReasons,
      firstErrorReply: done.firstErrorReply,
      unknownReplies: done.unknownReplies,
      skipped: done.skipped,
      publishErrors: done.publishErrors,
      commandsPerS: done.answeredInWindow / (done.windowMs / 1000),
      p50Micros: histogram.percentile(50),
      p99Micros: histogram.percentile(99),
      maxMicros: done.maxMicros,
      maxSecondRate: Math.max(...steady),
      minSecondRate: Math.min(...steady),
      routed: route?.routed,
      forwardedFraction:
        route === undefined ? undefined : (route.routed.forwarded ?? 0) / Math.max(1, done.sent),
      meanRouteRoundTripMicros: route?.meanRoundTripMicros,
      targetCpuPercent: cpu.target,
      redisCpuPercent: cluster ? cpu.redis : undefined,
      brokerCpuPercent: cpu.broker,
      loadCpuPercent: cpu.load,
      otherCpuPercent: cpu.other,
      callsAnsweredByCps: sumClosed((d) => d.callsAnswered),
      closedAfterOpen: sumClosed((d) => d.closedAfterOpen),
      unexpectedFrames: sumClosed((d) => d.unexpectedFrames),
      firstUnexpectedFrame: closed.find((d) => d.firstUnexpectedFrame !== undefined)?.firstUnexpectedFrame,
      perSecond: done.perSecond,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await bootBackend?.stop().catch(() => {});
    await target?.stop();
    await broker.stop();
  }
}

installCleanup();
const results: RoutingResult[] = [];
for (let round = 1; round <= settings.rounds; round++) {
  for (const kind of settings.targets) {
    const unavailable = routingUnavailableReason(kind);
    if (unavailable !== undefined) {
      results.push({ target: kind, round, error: unavailable });
      continue;
    }
    const busyCoresBefore = await waitForQuietMachine();
    process.stderr.write(
      `round ${round}/${settings.rounds}, ${kind}: ${settings.warmupMs / 1000} + ${settings.durationMs / 1000} s\n`,
    );
    try {
      results.push({ ...(await measure(kind)), round, busyCoresBefore });
    } catch (err) {
      results.push({ target: kind, round, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
const file = writeResult('routing', { context: runContext(), settings, results });
process.stdout.write(
  `Median of ${settings.rounds} round(s):\n\n${routingSummaryTable(results)}\n\nEvery run:\n\n${routingRunsTable(results, settings.connections)}\n\n${file}\n`,
);
