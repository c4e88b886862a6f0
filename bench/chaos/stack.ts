import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAIN_JS, TEST_ENV, type GatewayEnv } from '../../test/harness/gateway.js';
import { Mosquitto } from '../../test/harness/mosquitto.js';
import { cutIdentity } from '../../test/harness/net-cut.js';
import { RedisCluster } from '../../test/harness/redis.js';

/** The gateway settings of a chaos run (tests' fast liveness; admission limits lifted). */
export const CHAOS_GATEWAY_ENV: GatewayEnv = {
  OCPP_GW_NODE_HEARTBEAT_MS: '500',
  OCPP_GW_NODE_TTL_MS: '3000',
  OCPP_GW_CALL_TIMEOUT_MS: '10000',
  OCPP_GW_DRAIN_SECONDS: '2',
  OCPP_GW_MQTT_KEEPALIVE_S: '5',
  OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '100000',
  OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '100000',
  OCPP_GW_CALLS_PER_S: '1000',
  OCPP_GW_CALL_BURST: '1000',
  OCPP_GW_LOG_LEVEL: 'warn',
};

/** Gateway processes still running, killed should the runner die before stop(). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * CHAOS_BROKER_LOG (`log_type` values, comma-separated, e.g. `all`): mosquitto's own log, every
 * packet with its id at `all`, kept beside the run's logs (not `*.log`: the checker reads those).
 * About 1 GB per 1,000,000 commands at `all`. mosquitto started as root writes it as its own
 * user: the run directory must let that user write.
 */
function brokerLog(dir: string): string[] {
  const types = process.env.CHAOS_BROKER_LOG;
  if (types === undefined || types === '') return [];
  return [
    `log_dest file ${resolve(dir, 'broker.out')}`,
    ...types.split(',').map((t) => `log_type ${t.trim()}`),
  ];
}

interface Node {
  readonly child: ChildProcess;
  readonly wsPort: number;
  readonly exited: Promise<void>;
}

/**
 * The chaos run's system under test: mosquitto (persistence on, so a graceful restart keeps its
 * sessions and queued messages), a Redis Cluster of 3 masters and 3 replicas, and `count`
 * gateway processes. Node `cutNode` runs as the `ocppgw-cut` user, so that net-cut.ts can cut
 * it off. `nodeEnv[i]` is added to node i's environment (e.g. a per-node subscription mode).
 * Gateway output goes to `{dir}/node-{i}.out`, not into the runner's memory.
 */
export class ChaosStack {
  readonly nodes: (Node | undefined)[] = [];

  private constructor(
    readonly dir: string,
    readonly broker: Mosquitto,
    readonly redis: RedisCluster,
    private readonly env: GatewayEnv,
    private readonly nodeEnv: readonly GatewayEnv[],
    readonly cutNode: number,
  ) {}

  static async start(
    dir: string,
    count: number,
    env: GatewayEnv,
    nodeEnv: readonly GatewayEnv[],
  ): Promise<ChaosStack> {
    const data = mkdtempSync(join(tmpdir(), 'chaos-mosq-'));
    chmodSync(data, 0o777); // mosquitto started as root writes its persistence file as the mosquitto user
    const broker = await Mosquitto.start([
      'persistence true',
      `persistence_location ${data}/`,
      'autosave_interval 1',
      ...brokerLog(dir),
    ]);
    const redis = await RedisCluster.start(3, 1);
    const stack = new ChaosStack(dir, broker, redis, { ...CHAOS_GATEWAY_ENV, ...env }, nodeEnv, 1);
    for (let i = 0; i < count; i++) await stack.startNode(i);
    return stack;
  }

  get count(): number {
    return this.nodes.length;
  }

  /** ws:// base URLs, `null` for a node that is down. */
  urls(): (string | null)[] {
    return this.nodes.map((n) => (n === undefined ? null : `ws://127.0.0.1:${n.wsPort}/ocpp/`));
  }

  async startNode(i: number): Promise<void> {
    const env = {
      PATH: process.env.PATH ?? '',
      ...TEST_ENV,
      ...this.env,
      OCPP_GW_MQTT_URL: this.broker.url,
      OCPP_GW_REDIS_CLUSTER_NODES: this.redis.nodesEnv,
      OCPP_GW_NODE_ID: `node-${i}`,
      ...this.nodeEnv[i],
    };
    const identity = i === this.cutNode ? cutIdentity() : undefined;
    const child = spawn(process.execPath, [MAIN_JS], {
      env: { ...env, OCPP_GW_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(identity === undefined ? {} : { uid: identity.uid, gid: identity.gid }),
    });
    const out = createWriteStream(join(this.dir, `node-${i}.out`), { flags: 'a' });
    child.stderr.pipe(out, { end: false });
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => running.delete(child));
    const wsPort = await new Promise<number>((resolve, reject) => {
      let text = '';
      let found = false;
      const timer = setTimeout(
        () => reject(new Error(`node-${i} not ready in 30 s: ${text.slice(-2000)}`)),
        30_000,
      );
      child.stdout.on('data', (d: Buffer) => {
        out.write(d);
        if (found) return;
        text += d.toString();
        const line = text.split('\n').find((l) => l.includes('"gateway ready"'));
        if (line === undefined) return;
        found = true;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { wsPort: number }).wsPort);
      });
      void exited.then(() => reject(new Error(`node-${i} exited before ready: ${text.slice(-2000)}`)));
    });
    this.nodes[i] = { child, wsPort, exited };
  }

  /** `SIGKILL`: gone at once; `SIGTERM`: the drain (sockets closed with 1012), then exit. */
  async stopNode(i: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const node = this.nodes[i];
    this.nodes[i] = undefined;
    if (node === undefined) return;
    node.child.kill(signal);
    await node.exited;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map(async (_, i) => this.stopNode(i, 'SIGKILL')));
    await this.broker.stop();
    await this.redis.stop();
  }
}
