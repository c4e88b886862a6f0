/**
 * The fault table of issue 12: what one fault costs the commands flowing through a 3-node
 * cluster. 3 gateway processes (node-1 as the Unix user the harness cuts off with iptables), a
 * Redis Cluster of 3 masters with a replica each, mosquitto, BENCH_STATIONS charge points spread
 * over the nodes that answer every CALL after BENCH_ANSWER_MS and reconnect elsewhere when their
 * socket closes; one command per station per second, published by the backend, for
 * BENCH_SECONDS; the fault from a third of the run to two thirds of it. Gateway settings are the
 * defaults an operator starts with (node TTL 6 s, call timeout 30 s, route timeout 70 s).
 *
 * Faults (BENCH_FAULTS, comma-separated): `none`; `redis-master` (kill -9 the Redis master
 * serving node-1's route-bus channel, its replica fails over); `cut-redis` and `cut-broker`
 * (node-1's packets to Redis, or to the broker, dropped: sockets stay open); `kill-node`
 * (kill -9 node-1). Each on a fresh cluster.
 *
 * Columns: sent; answered (the station's answer on the Reply topic); error replies by reason;
 * lost (neither, BENCH_SETTLE_S after the run); written twice (CALL frames a station received
 * more than once); error reply for a command the station executed (it received the CALL);
 * routing impaired: the seconds of sending in which some command did not end answered (first
 * to last, and how many). Needs root (iptables). Run: `npm run bench:partition-faults`.
 */
import { cpuSeconds } from './lib/proc-stats.js';
import { intFromEnv, listFromEnv } from './lib/env.js';
import { ClusterFixture, command } from '../test/harness/cluster.js';
import { outcomes, RoamingCp, tally } from '../test/harness/command-outcomes.js';
import { cutIdentity, NetCut } from '../test/harness/net-cut.js';
import { errorRepliedButWritten, writeCounts } from '../test/harness/partition-checks.js';
import { eventually, sleep } from '../test/harness/time.js';

const FAULTS = ['none', 'redis-master', 'cut-redis', 'cut-broker', 'kill-node'] as const;
type Fault = (typeof FAULTS)[number];

const STATIONS = intFromEnv('BENCH_STATIONS', 300);
const SECONDS = intFromEnv('BENCH_SECONDS', 60);
const SETTLE_S = intFromEnv('BENCH_SETTLE_S', 90);
const ANSWER_MS = intFromEnv('BENCH_ANSWER_MS', 50);
const faults = listFromEnv('BENCH_FAULTS', FAULTS, FAULTS);

interface Row {
  fault: Fault;
  sent: number;
  counts: Record<string, number>;
  twice: number;
  errorButWritten: number;
  /** How the commands of {@link errorButWritten} ended first (an answer, or which error). */
  errorButWrittenKinds: Record<string, number>;
  impaired: string;
  gatewayCpuS: number;
}

/** Starts the fault at a third of the run; the returned function ends it (a cut heals). */
async function inject(f: ClusterFixture, fault: Fault): Promise<() => Promise<void>> {
  const none = (): Promise<void> => Promise.resolve();
  switch (fault) {
    case 'none':
      return none;
    case 'redis-master':
      // Resolves once the replica took over; the run goes on meanwhile.
      void f.redisCluster?.killMasterOf('ocpp-gw:route:node-1', 30_000);
      return none;
    case 'cut-redis':
    case 'cut-broker': {
      const ports =
        fault === 'cut-broker' ? [f.mosquitto.port] : (f.redisCluster?.nodes.map((n) => n.port) ?? []);
      const cut = await NetCut.cut(cutIdentity().uid, ports);
      return () => cut.heal();
    }
    case 'kill-node':
      await f.kill(1);
      return none;
  }
}

async function run(fault: Fault): Promise<Row> {
  const env = {
    OCPP_GW_NODE_HEARTBEAT_MS: '1500',
    OCPP_GW_NODE_TTL_MS: '6000',
    OCPP_GW_CALL_TIMEOUT_MS: '30000',
  };
  const f = await ClusterFixture.start('cluster', 3, env, {
    replicas: 1,
    identities: [undefined, cutIdentity()],
  });
  const cps: RoamingCp[] = [];
  try {
    for (let i = 0; i < STATIONS; i++) {
      const cp = new RoamingCp(f, `pf-${fault}-${i}`, ANSWER_MS);
      await cp.connect(i % 3);
      cps.push(cp);
    }
    const pids = f.nodes.map((n) => n?.child.pid ?? 0);
    const cpuBefore = pids.map((pid) => cpuSeconds(pid));
    const sentAt = new Map<string, number>();
    const started = Date.now();
    let end: (() => Promise<void>) | undefined;
    // One command per station per second, in ten slices of a tenth of the stations.
    for (let tick = 0; tick < SECONDS * 10; tick++) {
      const second = Math.floor(tick / 10);
      if (tick === Math.floor((SECONDS * 10) / 3)) end = await inject(f, fault);
      if (tick === Math.floor((SECONDS * 20) / 3)) await end?.();
      const slice = cps.filter((_, i) => i % 10 === tick % 10);
      await Promise.all(
        slice.map((cp) => {
          const id = `${fault}-${second}-${cp.cid}`;
          sentAt.set(id, second);
          return f.backend.publish(`ocpp/cs/${cp.cid}`, command(id));
        }),
      );
      await sleep(Math.max(0, started + (tick + 1) * 100 - Date.now()));
    }
    const ids = [...sentAt.keys()];
    await eventually(
      () => [...outcomes(f, ids).values()].every((k) => k !== 'neither'),
      SETTLE_S * 1000,
      'settled',
    ).catch(() => undefined);
    const results = outcomes(f, ids);
    const written = writeCounts(cps.flatMap((cp) => (cp.cp === undefined ? [] : [cp.cp])));
    const mine = new Map([...written].filter(([id]) => sentAt.has(id)));
    const wrong = errorRepliedButWritten(f, mine);
    const impairedSeconds = [
      ...new Set(ids.filter((id) => results.get(id) !== 'answered').map((id) => sentAt.get(id) ?? 0)),
    ].sort((a, b) => a - b);
    const first = impairedSeconds[0];
    const last = impairedSeconds.at(-1);
    const cpuAfter = pids.map((pid, i) => (f.nodes[i] === undefined ? (cpuBefore[i] ?? 0) : cpuSeconds(pid)));
    return {
      fault,
      sent: ids.length,
      counts: tally(results),
      twice: [...mine.values()].filter((n) => n > 1).length,
      errorButWritten: wrong.length,
      errorButWrittenKinds: tally(outcomes(f, wrong)),
      impaired:
        first === undefined
          ? 'none'
          : `t = ${first}-${(last ?? first) + 1} s (${impairedSeconds.length} s with any)`,
      gatewayCpuS: cpuAfter.reduce((sum, v, i) => sum + v - (cpuBefore[i] ?? 0), 0),
    };
  } finally {
    for (const cp of cps) cp.stop();
    await f.teardown();
  }
}

function errors(counts: Record<string, number>): string {
  const kinds = Object.entries(counts).filter(([k]) => k.startsWith('error:'));
  const total = kinds.reduce((n, [, v]) => n + v, 0);
  if (total === 0) return '0';
  return `${total} (${kinds.map(([k, v]) => `${v} \`${k.slice(6)}\``).join(', ')})`;
}

const rows: Row[] = [];
for (const fault of faults) {
  const row = await run(fault);
  rows.push(row);
  console.error(JSON.stringify(row));
}
console.log(
  '| fault | sent | answered | error replies | lost | written twice | error reply for a command the station executed | routing impaired | gateway CPU s |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.fault} | ${r.sent} | ${r.counts.answered ?? 0} | ${errors(r.counts)} | ${r.counts.neither ?? 0} | ${r.twice} | ${r.errorButWritten} | ${r.impaired} | ${r.gatewayCpuS.toFixed(1)} |`,
  );
}
process.exit(0);
