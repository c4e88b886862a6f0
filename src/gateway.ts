import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.js';
import { brokerNeeds, warnBrokerShortfalls } from './bridge/broker-limits.js';
import { DownstreamSubscriber } from './bridge/downstream-subscriber.js';
import { EmbeddedBroker } from './bridge/embedded-broker.js';
import { MqttLink, type MqttLinkOptions } from './bridge/mqtt-link.js';
import { TopicMap } from './bridge/topic-map.js';
import { UpstreamPublisher } from './bridge/upstream-publisher.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { CommandRouter } from './cluster/command-router.js';
import { MemoryRegistry } from './cluster/memory-registry.js';
import { OwnerDelivery } from './cluster/owner-delivery.js';
import { RedisLink } from './cluster/redis-link.js';
import { epochSource } from './cluster/registry.js';
import { SessionAdopter } from './cluster/session-adopter.js';
import { EdgeServer } from './edge/edge-server.js';
import { KeepaliveSweeper } from './edge/keepalive.js';
import type { SessionContext } from './edge/session-context.js';
import { SessionTable } from './edge/session-table.js';
import { loadUws, type Uws } from './edge/uws.js';
import { AdminApi } from './observability/admin-api.js';
import { ClusterMetrics } from './observability/cluster-metrics.js';
import { HttpServer } from './observability/http-server.js';
import type { Logger } from './observability/logger.js';
import { Metrics, type NodeState } from './observability/metrics.js';
import { SchemaValidator } from './ocpp/schema-validator.js';
import { within } from './deadline.js';
import { drainSessions } from './drain.js';

/** How long a draining node waits for its forwarded commands and publishes to finish. */
const QUIESCE_MS = 5000;
/** Each other shutdown step: a broker or Redis that stopped answering cannot hold the exit. */
const STEP_MS = 1000;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export interface GatewayPorts {
  readonly wsPort: number;
  readonly httpPort: number;
  /** Set in single-node mode, where the embedded broker listens. */
  readonly mqttPort: number | undefined;
}

/**
 * One gateway node: wires the edge (uWS), the MQTT bridge and the router, and owns the node
 * lifecycle `starting -> ready -> draining -> stopped` (DESIGN §5). Only main.ts and tests
 * construct it.
 */
export class Gateway {
  state: NodeState = 'starting';
  readonly metrics: Metrics;
  readonly sessions = new SessionTable();
  private http: HttpServer;
  private broker: EmbeddedBroker | undefined;
  private link: MqttLink | undefined;
  private edge: EdgeServer | undefined;
  private keepalive: KeepaliveSweeper | undefined;
  private ports: GatewayPorts | undefined;
  private redis: RedisLink | undefined;
  private cluster: ClusterNode | undefined;
  private adopter: SessionAdopter | undefined;
  private downstreamFilter: string | undefined;
  private readonly admin: AdminApi;

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {
    this.metrics = new Metrics(config.nodeId, version);
    this.metrics.setNodeState('starting');
    this.admin = new AdminApi(this.sessions, config.nodeId, config.adminToken);
    this.http = new HttpServer(
      this.metrics,
      () => ({
        state: this.state,
        mqttConnected: this.link?.connected ?? false,
        redisConnected: this.redis?.ready,
        connections: this.sessions.size,
      }),
      log,
      this.admin,
    );
  }

  private setState(next: NodeState): void {
    if (this.state === next) return;
    this.log.info({ from: this.state, to: next }, 'node state');
    this.state = next;
    this.metrics.setNodeState(next);
  }

  get boundPorts(): GatewayPorts {
    if (this.ports === undefined) throw new Error('gateway not started');
    return this.ports;
  }

  async start(uws?: Uws): Promise<GatewayPorts> {
    const { config, log, metrics } = this;
    const httpPort = await this.http.listen(config.http.host, config.http.port);
    const uwsModule = uws ?? (await loadUws());
    const mode = config.schemaValidation;
    const validator = mode === 'disable' ? undefined : SchemaValidator.forVersion('ocpp1.6');

    let url = config.mqtt.url;
    let protocolVersion = config.mqtt.protocolVersion;
    let sharedGroup: string | undefined = config.mqtt.sharedGroup;
    if (url === undefined) {
      this.broker = await EmbeddedBroker.start(config.mqtt.embeddedHost, config.mqtt.embeddedPort, log);
      url = `mqtt://127.0.0.1:${this.broker.port}`;
      protocolVersion = 4; // aedes: MQTT 3.1.1 only, and no shared subscriptions
      sharedGroup = undefined;
    }
    const mqttOptions: MqttLinkOptions = {
      url,
      clientId: config.mqtt.clientId,
      username: config.mqtt.username,
      password: config.mqtt.password,
      protocolVersion,
      maxBacklog: config.mqtt.maxBacklog,
      // The embedded broker lives and dies with this process: nothing to keep a session for.
      sessionExpiryS: this.broker === undefined ? config.mqtt.sessionExpiryS : 0,
    };
    const link = await MqttLink.connect(mqttOptions, log, metrics);
    this.link = link;
    const needs = brokerNeeds(config, sharedGroup, mqttOptions.sessionExpiryS);
    warnBrokerShortfalls(link.connack.properties, needs, log);
    if (link.protocolVersion === 4 && this.broker === undefined) {
      log.warn(
        'MQTT 3.1.1 broker: no user properties; shared subscription kept ($share is a broker extension there)',
      );
    }
    const topics = new TopicMap(config.topics);
    const publisher = new UpstreamPublisher(
      link,
      topics,
      config.mqtt.upstreamQos,
      config.nodeId,
      metrics,
      log,
    );
    const epochs = epochSource();
    const ctx: SessionContext = {
      nodeId: config.nodeId,
      publisher,
      metrics,
      log,
      table: this.sessions,
      upstreamSchema: mode === 'upstream' || mode === 'all' ? validator : undefined,
      downstreamSchema: mode === 'downstream' || mode === 'all' ? validator : undefined,
      maxQueueLength: config.maxQueueLength,
      callTimeoutMs: config.callTimeoutMs,
      heartbeatIntervalS: config.heartbeatIntervalS,
      nextEpoch: epochs.next,
      // Sessions exist only once the edge listens, after the router is set below.
      reroute: (cid, message, settled) => router.route(cid, message, settled, false),
    };
    const subscriber = new DownstreamSubscriber(link, topics, publisher, metrics, log);
    let router: CommandRouter;
    if (config.cluster === undefined) {
      const registry = new MemoryRegistry(config.nodeId);
      this.sessions.setHooks({
        owned: (s) => void registry.claim(s.cid, s.epoch),
        released: (s) => void registry.release(s.cid, s.epoch),
      });
      const owner = new OwnerDelivery(publisher, undefined, undefined);
      router = new CommandRouter(config.nodeId, this.sessions, owner, publisher, undefined, log);
    } else {
      const clusterMetrics = new ClusterMetrics(metrics.registry);
      this.redis = await RedisLink.connect(config.cluster, config.nodeId, log, clusterMetrics);
      const filter = topics.sharedFilter(sharedGroup);
      const markTtlMs = Math.max(config.cluster.routeTimeoutMs, config.mqtt.sessionExpiryS * 1000);
      const cluster = new ClusterNode(
        this.redis,
        config.cluster,
        config.nodeId,
        epochs.run,
        config.mqtt.clientId,
        markTtlMs,
        this.sessions,
        publisher,
        clusterMetrics,
        log,
        (node, clientId) => this.adopter?.adopt(node, clientId),
      );
      this.cluster = cluster;
      router = cluster.router;
      if (config.cluster.adoptSessions && this.broker === undefined) {
        this.adopter = new SessionAdopter(
          {
            mqtt: mqttOptions,
            filter,
            prefix: config.cluster.prefix,
            nodeId: config.nodeId,
            quietMs: 2000,
            maxMs: config.cluster.routeTimeoutMs + 10_000,
          },
          this.redis,
          cluster.directory,
          (topic, payload, redelivered, ack) =>
            subscriber.handle(topic, payload, redelivered, ack, (cid, message, settled, dup) =>
              router.route(cid, message, settled, dup),
            ),
          clusterMetrics,
          log,
        );
      }
      this.sessions.setHooks(cluster);
      this.admin.setRemote(cluster);
      await cluster.start();
    }
    this.downstreamFilter = await subscriber.start(sharedGroup, (cid, message, settled, redelivered) =>
      router.route(cid, message, settled, redelivered),
    );
    this.edge = new EdgeServer(uwsModule, config, ctx, metrics, log);
    const wsPort = await this.edge.listen(config.host, config.port);
    this.keepalive = new KeepaliveSweeper(this.sessions, config.heartbeatBackoff);
    this.keepalive.start();
    this.ports = { wsPort, httpPort, mqttPort: this.broker?.port };
    this.setState('ready');
    const clusterMode = config.cluster === undefined ? 'single-node' : 'cluster';
    log.info({ ...this.ports, version, schemaValidation: mode, mode: clusterMode }, 'gateway ready');
    return this.ports;
  }

  /**
   * SIGTERM path (DESIGN §5): readiness goes 503, the listener closes, sockets close with 1012
   * in batches over `drainSeconds`, then MQTT is flushed and everything stops. Every step after
   * the drain has a deadline (at most QUIESCE_MS + 5 × STEP_MS in all), whatever MQTT and Redis do.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'draining' || this.state === 'stopped') return;
    this.setState('draining');
    this.edge?.stopListening();
    // Other nodes take the shared subscription's traffic from now on (MQTT 5 §4.8.2).
    if (this.downstreamFilter !== undefined && this.cluster !== undefined) {
      await within(this.link?.unsubscribe(this.downstreamFilter), STEP_MS);
    }
    await drainSessions(this.sessions, this.config.drainSeconds * 1000);
    this.keepalive?.stop();
    this.edge?.closeAll();
    this.adopter?.stop();
    const flushBy = Date.now() + QUIESCE_MS;
    if (this.cluster !== undefined) {
      // Commands forwarded from here or answered here finish before the `bye`: a peer that
      // hears it answers what is still pending with node_lost, which must not race a real answer.
      while ((this.cluster.router.pendingCount > 0 || this.link?.busy === true) && Date.now() < flushBy) {
        await sleep(20);
      }
    }
    await within(this.cluster?.stop(), STEP_MS);
    // Every command this node took is answered by now: end the MQTT session with it.
    await this.link?.end(Math.max(0, flushBy - Date.now()), true);
    await this.redis?.quit(STEP_MS);
    await within(this.broker?.close(), STEP_MS);
    await within(this.http.close(), STEP_MS);
    this.setState('stopped');
  }
}
