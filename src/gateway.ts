import { createRequire } from 'node:module';
import type { Config } from './config.js';
import { DownstreamSubscriber } from './bridge/downstream-subscriber.js';
import { EmbeddedBroker } from './bridge/embedded-broker.js';
import { MqttLink } from './bridge/mqtt-link.js';
import { TopicMap } from './bridge/topic-map.js';
import { UpstreamPublisher } from './bridge/upstream-publisher.js';
import { CommandRouter } from './cluster/command-router.js';
import { EdgeServer } from './edge/edge-server.js';
import { KeepaliveSweeper } from './edge/keepalive.js';
import type { SessionContext } from './edge/session-context.js';
import { SessionTable } from './edge/session-table.js';
import { loadUws, type Uws } from './edge/uws.js';
import { AdminApi } from './observability/admin-api.js';
import { HttpServer } from './observability/http-server.js';
import type { Logger } from './observability/logger.js';
import { Metrics, type NodeState } from './observability/metrics.js';
import { SchemaValidator } from './ocpp/schema-validator.js';
import { drainSessions } from './drain.js';

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

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {
    this.metrics = new Metrics(config.nodeId, version);
    this.metrics.setNodeState('starting');
    this.http = new HttpServer(
      this.metrics,
      () => ({
        state: this.state,
        mqttConnected: this.link?.connected ?? false,
        connections: this.sessions.size,
      }),
      log,
      new AdminApi(this.sessions, config.adminToken),
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
    const link = await MqttLink.connect(
      {
        url,
        clientId: config.mqtt.clientId,
        username: config.mqtt.username,
        password: config.mqtt.password,
        protocolVersion,
        maxBacklog: config.mqtt.maxBacklog,
      },
      log,
      metrics,
    );
    this.link = link;
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
    };
    const router = new CommandRouter(this.sessions, publisher);
    await new DownstreamSubscriber(link, topics, publisher, metrics, log).start(sharedGroup, (cid, message) =>
      router.route(cid, message),
    );
    this.edge = new EdgeServer(uwsModule, config, ctx, metrics, log);
    const wsPort = await this.edge.listen(config.host, config.port);
    this.keepalive = new KeepaliveSweeper(this.sessions, config.heartbeatBackoff);
    this.keepalive.start();
    this.ports = { wsPort, httpPort, mqttPort: this.broker?.port };
    this.setState('ready');
    log.info({ ...this.ports, version, schemaValidation: mode }, 'gateway ready');
    return this.ports;
  }

  /**
   * SIGTERM path (DESIGN §5): readiness goes 503, the listener closes, sockets close with 1012
   * in batches over `drainSeconds`, then MQTT is flushed and everything stops.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'draining' || this.state === 'stopped') return;
    this.setState('draining');
    this.edge?.stopListening();
    await drainSessions(this.sessions, this.config.drainSeconds * 1000);
    this.keepalive?.stop();
    this.edge?.closeAll();
    await this.link?.end();
    await this.broker?.close();
    await this.http.close();
    this.setState('stopped');
  }
}
