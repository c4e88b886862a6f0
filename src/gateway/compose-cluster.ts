import { ClusterNode } from '../cluster/cluster-node.js';
import { RedisLink } from '../cluster/redis-link.js';
import type { epochSource } from '../cluster/registry.js';
import { SessionAdopter } from '../cluster/session-adopter.js';
import { holdSessionWhileLapsed } from '../cluster/session-hold.js';
import type { Config } from '../config/index.js';
import { TUNING } from '../config/tuning.js';
import type { AdminApi } from '../admin/admin-api.js';
import type { SessionTable } from '../edge/session/session-table.js';
import { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Composition } from './composition.js';
import type { MqttSide } from './mqtt-side.js';

export interface ClusterDeps {
  readonly config: Config;
  readonly cluster: NonNullable<Config['cluster']>;
  readonly mqtt: MqttSide;
  readonly sessions: SessionTable;
  readonly admin: AdminApi;
  readonly epochs: ReturnType<typeof epochSource>;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * Cluster mode (docs/architecture.md §5): Redis, the node's part in the cluster (registry, route
 * bus, directory, written-marks) and, with an external broker, adoption of dead nodes' sessions.
 */
export async function composeCluster(deps: ClusterDeps): Promise<Composition> {
  const { config, cluster: clusterConfig, mqtt, sessions, log } = deps;
  const clusterMetrics = new ClusterMetrics(deps.metrics.registry);
  const redis = await RedisLink.connect(clusterConfig, config.nodeId, log, clusterMetrics);
  let adopter: SessionAdopter | undefined;
  const cluster = new ClusterNode({
    redis,
    config: clusterConfig,
    nodeId: config.nodeId,
    run: deps.epochs.run,
    mqttClientId: config.mqtt.clientId,
    // A written-mark must outlive every redelivery of its command: the broker keeps it for the
    // session expiry, a forwarded copy lives for the route timeout.
    markTtlMs: Math.max(clusterConfig.routeTimeoutMs, config.mqtt.sessionExpiryS * 1000),
    table: sessions,
    publisher: mqtt.publisher,
    metrics: clusterMetrics,
    log,
    adopt: (node, clientId) => adopter?.adopt(node, clientId),
    revived: (node) => adopter?.revived(node),
  });
  holdSessionWhileLapsed(mqtt.link.guard, cluster.liveness, cluster.gate, clusterMetrics.partition, log);
  const { router } = cluster;
  if (clusterConfig.adoptSessions && mqtt.broker === undefined) {
    adopter = new SessionAdopter({
      mqtt: mqtt.options,
      filter: mqtt.topics.sharedFilter(mqtt.sharedGroup),
      prefix: clusterConfig.prefix,
      nodeId: config.nodeId,
      quietMs: TUNING.adoptQuietMs,
      maxMs: clusterConfig.routeTimeoutMs + TUNING.adoptMarginMs,
      redis,
      directory: cluster.directory,
      handle: (topic, payload, redelivered, ack, release, live) =>
        mqtt.subscriber.handle(topic, payload, redelivered, ack, router.route, release, live),
      metrics: clusterMetrics,
      log,
    });
  }
  sessions.setHooks(cluster);
  deps.admin.setRemote(cluster);
  await cluster.start();
  return { router, redis, cluster, adopter };
}
