import { ChargePoint } from './cp-client.js';
import { spawnGateway, type GatewayEnv, type GatewayProcess, type ProcessIdentity } from './gateway.js';
import { Mosquitto } from './mosquitto.js';
import { MqttObserver } from './mqtt-observer.js';
import { RedisCluster, RedisServer } from './redis.js';

export type RedisMode = 'standalone' | 'cluster';
export const REDIS_MODES: readonly RedisMode[] = ['standalone', 'cluster'];

/** Fast liveness for tests: a killed node is declared dead about a second later. */
export const CLUSTER_TEST_ENV: GatewayEnv = {
  OCPP_GW_NODE_HEARTBEAT_MS: '200',
  OCPP_GW_NODE_TTL_MS: '1000',
  OCPP_GW_CALL_TIMEOUT_MS: '5000',
  OCPP_GW_LOG_LEVEL: 'info',
};

/** Three (or more) gateway processes, a real mosquitto, real Redis, a backend observer. */
export class ClusterFixture {
  readonly nodes: (GatewayProcess | undefined)[] = [];
  private readonly clients: ChargePoint[] = [];

  private constructor(
    readonly mode: RedisMode,
    readonly mosquitto: Mosquitto,
    readonly redis: RedisServer | undefined,
    readonly redisCluster: RedisCluster | undefined,
    readonly backend: MqttObserver,
    private readonly env: GatewayEnv,
    /** The subprotocols every charge point of {@link connect} offers. */
    readonly protocols: string[],
  ) {}

  /**
   * `replicas`: Redis Cluster replicas per master (failover tests). `identities[i]`: the Unix
   * identity node i runs as (partition tests cut it off by owner, net-cut.ts).
   */
  static async start(
    mode: RedisMode,
    count = 3,
    env: GatewayEnv = {},
    options: {
      replicas?: number;
      identities?: readonly (ProcessIdentity | undefined)[];
      /** The subprotocols every charge point of {@link connect} offers. */
      protocols?: string[];
      /** Variables of node i only (e.g. OCPP_GW_DOWNSTREAM_SUBSCRIBE), over `env`. */
      nodeEnv?: (index: number) => GatewayEnv;
    } = {},
  ): Promise<ClusterFixture> {
    const mosquitto = await Mosquitto.start();
    const redis = mode === 'standalone' ? await RedisServer.start() : undefined;
    const redisCluster = mode === 'cluster' ? await RedisCluster.start(3, options.replicas ?? 0) : undefined;
    const backend = await MqttObserver.connect(mosquitto.url, ['ocpp/cp/+/Reply', 'ocpp/cp/+']);
    const redisEnv: GatewayEnv =
      redis !== undefined
        ? { OCPP_GW_REDIS_URL: redis.url }
        : { OCPP_GW_REDIS_CLUSTER_NODES: redisCluster?.nodesEnv ?? '' };
    const fixture = new ClusterFixture(
      mode,
      mosquitto,
      redis,
      redisCluster,
      backend,
      {
        ...CLUSTER_TEST_ENV,
        OCPP_GW_MQTT_URL: mosquitto.url,
        ...redisEnv,
        ...env,
      },
      options.protocols ?? ['ocpp1.6'],
    );
    fixture.identities = options.identities ?? [];
    fixture.nodeEnv = options.nodeEnv ?? (() => ({}));
    for (let i = 0; i < count; i++) await fixture.startNode(i);
    return fixture;
  }

  private identities: readonly (ProcessIdentity | undefined)[] = [];
  private nodeEnv: (index: number) => GatewayEnv = () => ({});

  async startNode(index: number): Promise<GatewayProcess> {
    const env = { ...this.env, ...this.nodeEnv(index), OCPP_GW_NODE_ID: `node-${index}` };
    const node = await spawnGateway(env, undefined, this.identities[index]);
    this.nodes[index] = node;
    return node;
  }

  node(index: number): GatewayProcess {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`node ${index} is not running`);
    return node;
  }

  url(index: number, cid: string): string {
    return `ws://127.0.0.1:${this.node(index).ports.wsPort}/ocpp/${encodeURIComponent(cid)}`;
  }

  async connect(index: number, cid: string): Promise<ChargePoint> {
    const cp = await ChargePoint.connect(this.url(index, cid), this.protocols);
    this.clients.push(cp);
    return cp;
  }

  /** A CP that answers every CALL it gets with `{status: "Accepted"}`. */
  async responder(index: number, cid: string): Promise<ChargePoint> {
    const cp = await this.connect(index, cid);
    answerCalls(cp);
    return cp;
  }

  async metrics(index: number): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.node(index).ports.httpPort}/metrics`);
    return res.text();
  }

  async kill(index: number): Promise<void> {
    await this.node(index).stop('SIGKILL');
    this.nodes[index] = undefined;
  }

  async teardown(): Promise<void> {
    for (const cp of this.clients) cp.ws.terminate();
    await this.backend.end();
    await Promise.all(this.nodes.map(async (n) => n?.stop('SIGKILL')));
    await this.mosquitto.stop();
    await this.redis?.stop();
    await this.redisCluster?.stop();
  }
}

/** Answers every CALL with `{status: "Accepted"}`, after `delayMs` (commands stay in flight). */
export function answerCalls(cp: ChargePoint, delayMs = 0): void {
  cp.ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    if (frame[0] !== 2) return;
    const answer = (): void => {
      if (cp.ws.readyState === cp.ws.OPEN) cp.send([3, frame[1], { status: 'Accepted' }]);
    };
    if (delayMs === 0) answer();
    else setTimeout(answer, delayMs);
  });
}

/** A downstream CALL as the backend publishes it on `ocpp/cs/{cid}`. */
export const command = (uniqueId: string): Record<string, unknown> => ({
  MessageTypeId: 2,
  UniqueId: uniqueId,
  Action: 'ChangeAvailability',
  Payload: { connectorId: 0, type: 'Operative' },
});

/** The sample value of a metric line such as `name{labels} 12`; 0 when absent. */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' ') || l.startsWith(series + '{'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
