import { TUNING } from '../config/tuning.js';
import type { Clock } from '../io/clock.js';
import type { Owner } from './registry.js';
import type { RouterCluster } from './router-types.js';

/** First and longest pause between two lookups of an owner that is not proven absent. */
const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 1000;

/**
 * The registry's owner of `cid`, where an empty answer within a node TTL of Redis trouble proves
 * nothing (docs/architecture.md §5.5): a master that failed over to a replica that had not copied
 * its last writes, or that came back empty, lost owner entries their nodes have not written back
 * yet (each does when it sees Redis come back: a reconnect, a restart, its liveness back, §5.4).
 * Answered `offline` meanwhile, a command to a connected charge point got an error reply while
 * the next one, whose lookup found the entry written back, was written; when that error reply's
 * MQTT message went back to the broker unacknowledged (an adopted session taken back, §5.8), the
 * first command was written after the second on its redelivery.
 *
 * So while the answer proves nothing the registry is asked again, with growing pauses, until it
 * names an owner, the node is settled, `here` says the charge point connected to this node, or
 * the wait is over. The caller stays at the head of its line meanwhile, so the charge point's
 * later commands wait too. A failing lookup rejects as before.
 */
export async function lookupOwner(
  cluster: RouterCluster,
  cid: string,
  here: () => boolean,
  clock: Clock,
): Promise<Owner | undefined> {
  const policy = cluster.absentOwner;
  const started = clock.now();
  for (let pauseMs = FIRST_PAUSE_MS; ; pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS)) {
    const owner = await cluster.registry.lookup(cid);
    if (owner !== undefined || policy === undefined || policy.settled() || here()) return owner;
    if (clock.now() - started + pauseMs > policy.maxWaitMs) return owner;
    if (pauseMs === FIRST_PAUSE_MS) cluster.metrics.partition.count('owner_unproven');
    await new Promise<void>((resolve) => clock.setTimeout(resolve, pauseMs));
  }
}

/**
 * How long a `deliver` to a freshly looked-up owner that reaches nobody is sent again before the
 * command is answered `offline` (route-bus.ts `sendHeard`). Nobody on the owner's channel proves it
 * gone only when Redis is settled: within a node TTL of Redis trouble the owner's subscription may
 * have gone with a failed master, and is back once its client resubscribes or its check (§5.4)
 * subscribes again. A chaos run answered 641 commands `offline` 2 s into such a gap, to stations
 * of a live node; their copies were written later, after the stations' next commands (§5.14).
 */
export function unheardWaitMs(cluster: RouterCluster): number {
  const policy = cluster.absentOwner;
  const unsettled = policy !== undefined && !policy.settled();
  const waitMs = unsettled ? Math.max(TUNING.unheardOwnerMs, policy.maxWaitMs) : TUNING.unheardOwnerMs;
  return Math.min(waitMs, cluster.routeTimeoutMs / 4);
}
