import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdminApi } from '../admin/admin-api.js';
import { CredentialsApi } from '../admin/credentials-api.js';
import { setUpAuth, type AuthSide } from './auth-side.js';
import type { MqttLink } from '../bridge/mqtt-link.js';
import { epochSource, ownerVersion } from '../cluster/registry.js';
import type { Config } from '../config/index.js';
import { TUNING } from '../config/tuning.js';
import { EdgeServer } from '../edge/edge-server.js';
import { KeepaliveSweeper } from '../edge/session/keepalive.js';
import type { SessionContext } from '../edge/session/session-context.js';
import { SessionTable } from '../edge/session/session-table.js';
import { loadUws, type Uws } from '../edge/uws.js';
import type { NodeState } from '../node-state.js';
import { HttpServer } from '../observability/http-server.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { SchemaPolicy } from '../ocpp/schema-policy.js';
import { composeCluster } from './compose-cluster.js';
import { composeSingle } from './compose-single.js';
import type { Composition } from './composition.js';
import { within } from '../io/deadline.js';
import { drainSessions } from './drain.js';
import { HeapSettle } from './heap-settle.js';
import { connectMqtt, type MqttSide } from './mqtt-side.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

export interface GatewayPorts {
  readonly wsPort: number;
  readonly httpPort: number;
  /** Set in single-node mode, where the embedded broker listens. */
  readonly mqttPort: number | undefined;
  /** Set when TLS is configured: the wss listener. */
  readonly tlsPort?: number | undefined;
}

/**
 * One gateway node: wires the edge (uWS), the MQTT bridge and the router, and owns the node
 * lifecycle `starting -> ready -> draining -> stopped` (docs/architecture.md §6.2). Only main.ts and tests
 * construct it.
 */
export class Gateway {
  state: NodeState = 'starting';
  readonly metrics: Metrics;
  readonly sessions = new SessionTable();
  private http: HttpServer;
  private mqtt: MqttSide | undefined;
  private composition: Composition | undefined;
  private edge: EdgeServer | undefined;
  private keepalive: KeepaliveSweeper | undefined;
  private heapSettle: HeapSettle | undefined;
  private ports: GatewayPorts | undefined;
  private downstreamFilter: string | undefined;
  private readonly admin: AdminApi;
  private auth: AuthSide | undefined;

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
        redisConnected: this.composition?.redis?.ready,
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

  private get link(): MqttLink | undefined {
    return this.mqtt?.link;
  }

  async start(uws?: Uws): Promise<GatewayPorts> {
    const { config, log, metrics, sessions } = this;
    const httpPort = await this.http.listen(config.http.host, config.http.port);
    const uwsModule = uws ?? (await loadUws());
    const mode = config.schemaValidation;
    const schemas = await SchemaPolicy.create({
      upstream: mode === 'upstream' || mode === 'all',
      downstream: mode === 'downstream' || mode === 'all',
      subprotocols: config.subprotocols,
    });
    const mqtt = await connectMqtt(config, log, metrics);
    this.mqtt = mqtt;
    const epochs = epochSource();
    const { admin } = this;
    const composition =
      config.cluster === undefined
        ? composeSingle(config, mqtt, sessions, log)
        : await composeCluster({
            config,
            cluster: config.cluster,
            mqtt,
            sessions,
            admin,
            epochs,
            metrics,
            log,
          });
    this.composition = composition;
    const auth = await setUpAuth(config, composition.redis, metrics.registry, log);
    this.auth = auth;
    if (auth.store !== undefined)
      admin.setCredentials(new CredentialsApi(auth.store, (cid) => auth.authenticator.invalidate(cid)));
    const { route } = composition.router;
    const ctx: SessionContext = {
      nodeId: config.nodeId,
      publisher: mqtt.publisher,
      metrics,
      log,
      table: sessions,
      schemas,
      maxQueueLength: config.maxQueueLength,
      maxFrameBytes: config.maxFrameBytes,
      callTimeoutMs: config.callTimeoutMs,
      heartbeatIntervalS: config.heartbeatIntervalS,
      nextEpoch: epochs.next,
      reroute: (cid, message, ack) => route(cid, message, { ack, redelivered: false }),
      answered: auth.follower === undefined ? undefined : auth.follower.answered.bind(auth.follower),
    };
    const registry = composition.cluster?.registry;
    const gate = composition.cluster?.gate;
    // Stamped on arrival: what the link delivered before it closed while lapsed is the broker's again.
    const fromLink: typeof route =
      gate === undefined ? route : (cid, message, d) => route(cid, message, { ...d, linkEpoch: gate.epoch });
    this.downstreamFilter = await mqtt.subscriber.start(
      mqtt.sharedGroup,
      fromLink,
      config.downstreamSubscribe,
      (cid) => sessions.lookup(cid)?.version ?? (registry && ownerVersion(registry, cid)),
    );
    this.edge = new EdgeServer(uwsModule, config, ctx, metrics, log, auth.authenticator);
    const wsPort = await this.edge.listen(config.host, config.port);
    const tlsPort = await this.edge.listenTls(config.host);
    this.keepalive = new KeepaliveSweeper(sessions, config.heartbeatBackoff);
    this.keepalive.start();
    this.heapSettle = new HeapSettle(config.heapSettleS, log);
    this.heapSettle.start();
    this.ports = { wsPort, httpPort, mqttPort: mqtt.broker?.port, tlsPort };
    this.setState('ready');
    const clusterMode = config.cluster === undefined ? 'single-node' : 'cluster';
    log.info({ ...this.ports, version, schemaValidation: mode, mode: clusterMode }, 'gateway ready');
    return this.ports;
  }

  /**
   * SIGTERM path (docs/architecture.md §6.2): readiness goes 503, the listener closes, sockets close with 1012
   * in batches over `drainSeconds`, then MQTT is flushed and everything stops. Every step after
   * the drain has a deadline (TUNING.quiesceMs and shutdownStepMs), whatever MQTT and Redis do.
   */
  /** SIGHUP: the wss listener serves the certificate and key files' current pair. */
  reloadTls(): boolean {
    return this.edge?.reloadTls() ?? false;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'draining' || this.state === 'stopped') return;
    this.setState('draining');
    this.edge?.stopListening();
    const stepMs = TUNING.shutdownStepMs;
    // Other nodes take the shared subscription's traffic from now on (MQTT 5 §4.8.2), unless
    // this node keeps its session for its return (OCPP_GW_DRAIN_UNSUBSCRIBE=false, §5.14).
    const keep = !this.config.drainUnsubscribe;
    if (!keep && this.downstreamFilter !== undefined && this.composition?.cluster !== undefined) {
      await within(this.link?.unsubscribe(this.downstreamFilter), stepMs);
    }
    await drainSessions(this.sessions, this.config.drainSeconds * 1000);
    this.keepalive?.stop();
    this.heapSettle?.stop();
    this.edge?.closeAll();
    const { cluster, adopter, redis } = this.composition ?? {};
    adopter?.stop();
    // Kept: what comes from here on waits in the broker, so what this node routed can settle.
    if (keep) this.mqtt?.subscriber.hold();
    const flushBy = Date.now() + TUNING.quiesceMs;
    if (cluster !== undefined) {
      // Commands forwarded from here or answered here finish before the `bye`: a peer that
      // hears it answers what is still pending with node_lost, which must not race a real answer.
      // The closed sockets' registry entries go first too (release-queue.ts).
      const busy = (): boolean =>
        cluster.router.pendingCount > 0 || cluster.registry.releasesPending > 0 || this.link?.busy === true;
      while (busy() && Date.now() < flushBy) {
        await sleep(TUNING.quiescePollMs);
      }
    }
    const quiesced = cluster !== undefined && cluster.router.pendingCount === 0 && this.link?.busy !== true;
    await within(cluster?.stop(quiesced), stepMs);
    // Every command this node took is answered by now (failAll above answered the rest): end the
    // MQTT session with it once those answers are acknowledged, for which one step at least;
    // a kept session stays for the node's return.
    await this.link?.end(Math.max(TUNING.shutdownStepMs, flushBy - Date.now()), !keep);
    await within(this.auth?.close(), stepMs);
    await redis?.quit(stepMs);
    await within(this.mqtt?.broker?.close(), stepMs);
    await within(this.http.close(), stepMs);
    this.setState('stopped');
  }
}
