import { routeSnapshot } from './gateway-metrics.js';
import type { ManagedProcess } from './processes.js';
import { RedisServer } from '../../test/harness/redis.js';
import { startTarget, unavailableReason, type Target } from './targets.js';
import { sleep } from '../../test/harness/time.js';

/**
 * What the routing bench measures:
 * - `cluster-3`: three gateway processes on one Redis; the CPs are spread evenly over them and
 *   the shared subscription hands each command to any node, so about 2/3 cross the route bus;
 * - `gateway-1`: one gateway in single-node mode on the same kind of broker, every command local:
 *   the baseline that shows what the cross-node hop costs;
 * - `peer`: the `ws` + mqtt.js bridge (bench/peer), which subscribes `ocpp/cs/+` itself;
 * - `cluster-local` and `cluster-forwarded` (only when named in BENCH_TARGETS): the same three
 *   nodes, but only node 0 holds the downstream subscription (OCPP_GW_DOWNSTREAM_SUBSCRIBE=false
 *   on the others); the CPs connect to node 0 (every command local, marks and all) or to nodes
 *   1 and 2 (every command forwarded). Their CPU per command, summed over the nodes, is what a
 *   forwarded command costs beside a local one in the same cluster.
 */
export type RoutingKind = 'cluster-3' | 'gateway-1' | 'peer' | 'cluster-local' | 'cluster-forwarded';
export const ROUTING_KINDS: readonly RoutingKind[] = ['cluster-3', 'gateway-1', 'peer'];
export const ALL_ROUTING_KINDS: readonly RoutingKind[] = [
  ...ROUTING_KINDS,
  'cluster-local',
  'cluster-forwarded',
];

export const CLUSTER_NODES = 3;
const CLUSTER_FORMED_TIMEOUT_MS = 15_000;

/**
 * BENCH_NODE_ENV: `NAME=value` pairs, comma-separated, set on every cluster node, e.g.
 * `OCPP_GW_NODE_TTL_MS=10000` to see what a longer liveness window does to the capacity run's storm.
 * Only `OCPP_GW_*` names: anything else is a mistake worth stopping on.
 */
export function nodeEnvFromBench(raw = process.env.BENCH_NODE_ENV ?? ''): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of raw.split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    if (eq < 0 || !/^OCPP_GW_[A-Z0-9_]+$/.test(name))
      throw new Error(`BENCH_NODE_ENV: "${pair}" is not OCPP_GW_NAME=value`);
    env[name] = pair.slice(eq + 1).trim();
  }
  return env;
}

/** One running target: the processes that serve charge points, and Redis for the cluster. */
export interface RoutingTarget {
  readonly kind: RoutingKind;
  /** Gateway nodes (or the peer), in node order. */
  readonly nodes: readonly ManagedProcess[];
  readonly redis: RedisServer | undefined;
  /** `ws://127.0.0.1:<port>/ocpp/`, one per node; CPs are split over them in blocks. */
  readonly baseUrls: readonly string[];
  /** Metrics ports of the gateway nodes; empty for the peer. */
  readonly httpPorts: readonly number[];
  /** The node that died first, if any, with the end of its stderr. */
  deadNode(): string | undefined;
  stop(): Promise<void>;
}

export function routingUnavailableReason(kind: RoutingKind): string | undefined {
  // A missing redis-server shows as the failed start of that run.
  return unavailableReason(kind === 'peer' ? 'peer' : 'gateway');
}

/**
 * Every node's `ocpp_gateway_cluster_nodes` must show the whole cluster before CPs connect, so
 * the first commands do not meet a node that has not yet subscribed its route channel.
 */
async function waitForClusterFormed(httpPorts: readonly number[]): Promise<void> {
  const deadline = performance.now() + CLUSTER_FORMED_TIMEOUT_MS;
  let seen: readonly number[] = [];
  while (performance.now() < deadline) {
    seen = (await routeSnapshot(httpPorts)).nodesSeen;
    if (seen.every((n) => n === httpPorts.length)) return;
    await sleep(100);
  }
  throw new Error(`cluster not formed after ${CLUSTER_FORMED_TIMEOUT_MS} ms: nodes seen ${seen.join(', ')}`);
}

/** Starts the target on `mqttUrl`, each gateway publishing upstream (the replies) at `qos`. */
export async function startRoutingTarget(
  kind: RoutingKind,
  mqttUrl: string,
  qos: 0 | 1 | 2,
): Promise<RoutingTarget> {
  const started: Target[] = [];
  let redis: RedisServer | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((t) => t.process.stop()));
    await redis?.stop();
  };
  try {
    if (kind === 'peer') {
      started.push(await startTarget('peer', { mqttUrl, qos }));
    } else if (kind === 'gateway-1') {
      started.push(await startTarget('gateway', { mqttUrl, qos, name: 'gateway-1' }));
    } else {
      redis = await RedisServer.start();
      const oneRouter = kind !== 'cluster-3';
      const benchEnv = nodeEnvFromBench();
      for (let i = 0; i < CLUSTER_NODES; i++) {
        const env = {
          ...benchEnv,
          OCPP_GW_NODE_ID: `node-${i}`,
          OCPP_GW_REDIS_URL: redis.url,
          ...(oneRouter && i > 0 ? { OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'false' } : {}),
        };
        started.push(await startTarget('gateway', { mqttUrl, qos, name: `cluster-node-${i}`, env }));
      }
    }
    const httpPorts = started.map((t) => t.httpPort).filter((p): p is number => p !== undefined);
    if (kind.startsWith('cluster')) await waitForClusterFormed(httpPorts);
    const urls = started.map((t) => `ws://127.0.0.1:${t.wsPort}/ocpp/`);
    return {
      kind,
      nodes: started.map((t) => t.process),
      redis,
      baseUrls:
        kind === 'cluster-local' ? urls.slice(0, 1) : kind === 'cluster-forwarded' ? urls.slice(1) : urls,
      httpPorts,
      deadNode() {
        const dead = started.map((t) => t.process).find((p) => !p.running);
        if (dead !== undefined) return `${dead.name} exited during the run; stderr:\n${dead.stderr()}`;
        return redis !== undefined && !redis.running ? 'redis-server exited during the run' : undefined;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
