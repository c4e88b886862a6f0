/**
 * Per-charge-point order through a 3-node cluster (docs/architecture.md §5.14): the same
 * stations and bursts of sequenced commands, once with one node holding the downstream
 * subscription (OCPP_GW_DOWNSTREAM_SUBSCRIBE=false on the other two) and once with all three
 * subscribing (mosquitto dispatches round-robin). Prints sent / answered / error-replied / lost /
 * duplicated / reordered per mode, and the gateway CPU time per command (3 nodes summed, from
 * /proc/<pid>/stat).
 *
 *   npm run build && node dist/bench/order.js
 *   BENCH_STATIONS=300 BENCH_ROUNDS=20 BENCH_BURST=5 (defaults)
 */
import { cpuSeconds } from './lib/proc-stats.js';
import { intFromEnv } from './lib/env.js';
import { runContext } from './lib/report.js';
import { OrderCluster, type OrderCounts } from '../test/harness/order-run.js';

const STATIONS = intFromEnv('BENCH_STATIONS', 300, 1);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 20, 1);
const BURST = intFromEnv('BENCH_BURST', 5, 1);

interface ModeResult {
  readonly mode: string;
  readonly counts: OrderCounts;
  readonly cpuUsPerCommand: number;
  readonly routedPerNode: number[];
}

async function measure(mode: string, subscribe: boolean[]): Promise<ModeResult> {
  const cluster = await OrderCluster.start(subscribe);
  try {
    const cids = await cluster.connectStations(STATIONS);
    await cluster.probe(cids);
    const pids = cluster.nodes.map((n) => n.child.pid ?? 0);
    const cpuBefore = pids.reduce((t, pid) => t + cpuSeconds(pid), 0);
    const counts = await cluster.run(cids, ROUNDS, BURST);
    const cpu = pids.reduce((t, pid) => t + cpuSeconds(pid), 0) - cpuBefore;
    const routedPerNode = await Promise.all(cluster.nodes.map((_, i) => cluster.routed(i)));
    return { mode, counts, cpuUsPerCommand: (cpu / counts.sent) * 1e6, routedPerNode };
  } finally {
    await cluster.stop();
  }
}

const context = runContext();
const results = [
  await measure('one routing node (nodes 1, 2: OCPP_GW_DOWNSTREAM_SUBSCRIBE=false)', [true, false, false]),
  await measure('three routing nodes (mosquitto round-robin)', [true, true, true]),
];
console.log(
  `\n${String(context.date)} commit ${String(context.gitCommit)} load ${JSON.stringify(context.loadAverage)}`,
);
console.log(`${STATIONS} stations over 3 nodes, ${ROUNDS} rounds of ${BURST} commands per station\n`);
console.log(
  '| mode | sent | answered | error-replied | lost | duplicated | reordered (stations) | ms | CPU per command | taken per node |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { mode, counts: c, cpuUsPerCommand, routedPerNode } of results) {
  const errors =
    Object.entries(c.errorReplied)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ') || '0';
  console.log(
    `| ${mode} | ${c.sent} | ${c.answered} | ${errors} | ${c.lost} | ${c.duplicated} | ` +
      `${c.reordered} (${c.stationsReordered} of ${STATIONS}) | ${c.ms} | ${cpuUsPerCommand.toFixed(0)} µs | ${routedPerNode.join(' / ')} |`,
  );
}
