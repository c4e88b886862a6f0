import { secret } from './secret-file.js';
import type { Reader } from './env-reader.js';
import type { ClusterConfig } from './types.js';

export function parseClusterNodes(r: Reader): { host: string; port: number }[] {
  const raw = r.raw('REDIS_CLUSTER_NODES');
  if (raw === undefined) return [];
  const nodes: { host: string; port: number }[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (match?.[1] === undefined || port < 1 || port > 65535) {
      r.fail('REDIS_CLUSTER_NODES', `"${item}" is not host:port`);
      continue;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

/** Cluster mode (docs/architecture.md §1.3) is on when a Redis URL or Redis Cluster seed nodes are given. */
export function parseCluster(r: Reader, callTimeoutMs: number): ClusterConfig | undefined {
  const redisUrl = r.url('REDIS_URL', ['redis', 'rediss']);
  const clusterNodes = parseClusterNodes(r);
  if (redisUrl === undefined && clusterNodes.length === 0) return undefined;
  const named = r.problems.some((p) => p.variable.startsWith('OCPP_GW_REDIS_'));
  if (redisUrl !== undefined && clusterNodes.length > 0 && !named)
    r.fail('REDIS_CLUSTER_NODES', 'set either OCPP_GW_REDIS_URL (standalone Redis) or this, not both');
  const prefix = r.string('REDIS_PREFIX', 'ocpp-gw');
  if (!/^[A-Za-z0-9._:{}-]{1,64}$/.test(prefix))
    r.fail('REDIS_PREFIX', 'must be 1..64 of A-Z a-z 0-9 . _ : { } -');
  const heartbeatMs = r.int('NODE_HEARTBEAT_MS', 1500, 100, 60_000);
  const nodeTtlMs = r.int('NODE_TTL_MS', 6000, 300, 600_000);
  if (nodeTtlMs < heartbeatMs * 2) r.fail('NODE_TTL_MS', 'must be at least twice OCPP_GW_NODE_HEARTBEAT_MS');
  const commandTimeoutMs = r.int(
    'REDIS_COMMAND_TIMEOUT_MS',
    Math.min(2000, Math.floor(nodeTtlMs / 2)),
    50,
    60_000,
  );
  if (commandTimeoutMs >= nodeTtlMs) r.fail('REDIS_COMMAND_TIMEOUT_MS', 'must be below OCPP_GW_NODE_TTL_MS');
  let tls = r.bool('REDIS_TLS', false);
  if (redisUrl?.startsWith('rediss:') === true) tls = true;
  return {
    redisUrl,
    clusterNodes,
    username: secret(r, 'REDIS_USERNAME'),
    password: secret(r, 'REDIS_PASSWORD'),
    tls,
    prefix,
    heartbeatMs,
    nodeTtlMs,
    ownerTtlS: r.int('OWNER_TTL_S', 86_400, 60, 30 * 86_400),
    routeTimeoutMs: r.int('ROUTE_TIMEOUT_MS', callTimeoutMs * 2 + 10_000, 1000, 86_400_000),
    adoptSessions: r.bool('ADOPT_SESSIONS', true),
    commandTimeoutMs,
  };
}
