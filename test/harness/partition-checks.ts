import type { ChargePoint } from './cp-client.js';
import { command, metricValue, type ClusterFixture } from './cluster.js';
import { outcomes } from './command-outcomes.js';
import { sleep } from './time.js';

/** How many times each UniqueId was written to any of `cps` (CALL frames in their inboxes). */
export function writeCounts(cps: readonly ChargePoint[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const cp of cps) {
    for (const frame of cp.inbox as unknown[][]) {
      if (frame[0] !== 2) continue;
      const id = String(frame[1]);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** Commands the backend got a gateway error reply for although a charge point received them. */
export function errorRepliedButWritten(f: ClusterFixture, written: ReadonlyMap<string, number>): string[] {
  const errored = new Set<string>();
  for (const m of f.backend.seen) {
    if (!m.topic.endsWith('/Reply')) continue;
    const j = m.json as { MessageTypeId: number; UniqueId: string };
    if (j.MessageTypeId === 4) errored.add(j.UniqueId);
  }
  return [...written.keys()].filter((id) => errored.has(id));
}

/**
 * Milliseconds until a probe command to each of `cids`, published on the backend (so the shared
 * subscription hands it to any node), is answered by its charge point; throws after `timeoutMs`.
 * Each attempt uses fresh ids; three per charge point, so the other nodes route some of them.
 */
export async function reachableWithin(
  f: ClusterFixture,
  cids: readonly string[],
  timeoutMs: number,
  tag: string,
): Promise<number> {
  const started = Date.now();
  for (let attempt = 0; Date.now() - started < timeoutMs; attempt++) {
    const ids = cids.flatMap((cid) => [0, 1, 2].map((k) => ({ cid, id: `${tag}-${attempt}-${k}-${cid}` })));
    await Promise.all(ids.map(({ cid, id }) => f.backend.publish(`ocpp/cs/${cid}`, command(id))));
    const attemptStart = Date.now();
    while (Date.now() - attemptStart < 3000) {
      const results = outcomes(
        f,
        ids.map((x) => x.id),
      );
      if ([...results.values()].every((k) => k === 'answered')) return Date.now() - started;
      if ([...results.values()].every((k) => k !== 'neither')) break;
      await sleep(50);
    }
  }
  throw new Error(`${cids.length} charge points not reachable from every node within ${timeoutMs} ms`);
}

/** Downstream messages each node took from its subscription so far (routed locally or forwarded). */
export async function handledPerNode(f: ClusterFixture, indexes: readonly number[]): Promise<number[]> {
  return Promise.all(
    indexes.map(async (i) => {
      const text = await f.metrics(i);
      const series = ['local', 'forwarded', 'offline', 'unroutable', 'node_lost', 'stale'];
      return series.reduce((n, r) => n + metricValue(text, `ocpp_gateway_route_total{result="${r}"}`), 0);
    }),
  );
}

/** HTTP status of a node's /readyz. */
export async function readyz(f: ClusterFixture, index: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${f.node(index).ports.httpPort}/readyz`);
  return res.status;
}
