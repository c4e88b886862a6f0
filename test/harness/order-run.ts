import { connectAsync, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { metricValue } from './cluster.js';
import { spawnGateway, type GatewayEnv, type GatewayProcess } from './gateway.js';
import { Mosquitto } from './mosquitto.js';
import { RedisCluster, RedisServer } from './redis.js';
import { sleep } from './time.js';

/** What the backend and the stations saw in one order run (docs/architecture.md §5.14). */
export interface OrderCounts {
  readonly sent: number;
  readonly answered: number;
  /** Gateway error replies by reason. */
  readonly errorReplied: Record<string, number>;
  /** Neither answered nor error-replied within the wait. */
  readonly lost: number;
  /** A station saw the same command twice, or the backend got two outcomes for one. */
  readonly duplicated: number;
  /** A station saw a command after a later one of its own sequence. */
  readonly reordered: number;
  /** Stations that saw at least one reorder. */
  readonly stationsReordered: number;
  readonly ms: number;
}

const ROUTE_SERIES = ['local', 'forwarded', 'offline', 'unroutable', 'node_lost', 'stale', 'queue_full'];

/**
 * Files one reply from the Reply topic under its UniqueId: `answered` for a CALLRESULT, else the
 * gateway's `ErrorDetails.reason` (`error` when it has none), in the order they arrived.
 */
export function recordOutcome(outcomes: Map<string, string[]>, payload: Buffer): void {
  const reply = JSON.parse(payload.toString()) as {
    MessageTypeId: number;
    UniqueId: string;
    ErrorDetails?: { reason?: string };
  };
  const outcome = reply.MessageTypeId === 3 ? 'answered' : (reply.ErrorDetails?.reason ?? 'error');
  const list = outcomes.get(reply.UniqueId) ?? [];
  list.push(outcome);
  outcomes.set(reply.UniqueId, list);
}

/**
 * Three gateway processes on a real mosquitto and Redis; `subscribe[i]` sets node i's
 * OCPP_GW_DOWNSTREAM_SUBSCRIBE. Stations (real `ws` clients in this process) are spread over the
 * nodes round-robin, so two thirds of the commands a routing node takes are forwarded; each
 * answers every CALL at once and records the sequence numbers it got, in arrival order.
 */
export class OrderCluster {
  private readonly stations = new Map<string, { ws: WebSocket; seen: number[] }>();
  private readonly outcomes = new Map<string, string[]>();

  private constructor(
    readonly redis: RedisServer | RedisCluster,
    readonly broker: Mosquitto,
    readonly nodes: GatewayProcess[],
    private readonly backend: MqttClient,
    private readonly nodeEnv: (index: number, subscribe: boolean) => GatewayEnv,
  ) {
    backend.on('message', (_topic, payload) => recordOutcome(this.outcomes, payload));
  }

  /** `redisCluster`: a Redis Cluster of 3 masters instead of one redis-server. */
  static async start(
    subscribe: readonly boolean[],
    env: GatewayEnv = {},
    redisCluster = false,
  ): Promise<OrderCluster> {
    const redis = redisCluster ? await RedisCluster.start(3) : await RedisServer.start();
    const redisEnv: GatewayEnv =
      redis instanceof RedisCluster
        ? { OCPP_GW_REDIS_CLUSTER_NODES: redis.nodesEnv }
        : { OCPP_GW_REDIS_URL: redis.url };
    const broker = await Mosquitto.start();
    const nodes: GatewayProcess[] = [];
    const nodeEnv = (i: number, on: boolean): GatewayEnv => ({
      OCPP_GW_NODE_ID: `node-${i}`,
      OCPP_GW_MQTT_URL: broker.url,
      ...redisEnv,
      OCPP_GW_DOWNSTREAM_SUBSCRIBE: String(on),
      ...env,
    });
    try {
      for (const [i, on] of subscribe.entries()) nodes.push(await spawnGateway(nodeEnv(i, on)));
    } catch (error) {
      // A node that does not start must not leave the others, the broker and Redis running.
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      await broker.stop();
      await redis.stop();
      throw error;
    }
    const backend = await connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: `order-backend-${process.pid}`,
    });
    await backend.subscribeAsync('ocpp/cp/+/Reply', { qos: 1 });
    return new OrderCluster(redis, broker, nodes, backend, nodeEnv);
  }

  /** `count` stations, station i on node i % nodes; each answers every CALL at once. */
  async connectStations(count: number, prefix = 'ord'): Promise<string[]> {
    const cids: string[] = [];
    for (let i = 0; i < count; i++) {
      const cid = `${prefix}-${i}`;
      const node = this.nodes[i % this.nodes.length]!;
      const ws = new WebSocket(`ws://127.0.0.1:${node.ports.wsPort}/ocpp/${cid}`, ['ocpp1.6']);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const station = { ws, seen: [] as number[] };
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as [number, string, string, { data?: string }];
        if (frame[0] !== 2) return;
        const seq = Number(frame[3].data);
        if (Number.isInteger(seq)) station.seen.push(seq);
        ws.send(JSON.stringify([3, frame[1], { status: 'Accepted' }]));
      });
      this.stations.set(cid, station);
      cids.push(cid);
    }
    return cids;
  }

  /** One probe per station until each is answered: every owner entry is visible to every router. */
  async probe(cids: readonly string[], timeoutMs = 60_000): Promise<void> {
    const started = Date.now();
    let waiting = [...cids];
    for (let attempt = 0; waiting.length > 0; attempt++) {
      if (Date.now() - started > timeoutMs) throw new Error(`${waiting.length} stations not reachable`);
      const ids = waiting.map((cid) => ({ cid, id: `probe-${attempt}-${cid}` }));
      await Promise.all(ids.map(({ cid, id }) => this.publish(cid, id, 'probe')));
      const by = Date.now() + 5000;
      while (Date.now() < by && ids.some(({ id }) => !this.outcomes.has(id))) await sleep(50);
      waiting = ids.filter(({ id }) => this.outcomes.get(id)?.[0] !== 'answered').map(({ cid }) => cid);
    }
  }

  /**
   * `rounds` rounds; in each, every station gets `burst` sequenced commands published back to
   * back (all in flight at once), and the next round starts once this one's outcomes are in or
   * `waitMs` has passed.
   */
  async run(cids: readonly string[], rounds: number, burst: number, waitMs = 60_000): Promise<OrderCounts> {
    const started = Date.now();
    const tag = `r${started}`;
    const ids: string[] = [];
    for (const station of this.stations.values()) station.seen.length = 0;
    for (let round = 0; round < rounds; round++) {
      const batch: Promise<unknown>[] = [];
      const roundIds: string[] = [];
      // One station's burst back to back: a round-robin broker spreads it over its subscribers.
      for (const cid of cids) {
        for (let k = 0; k < burst; k++) {
          const seq = round * burst + k;
          const id = `${tag}-${cid}-${seq}`;
          roundIds.push(id);
          batch.push(this.publish(cid, id, String(seq)));
        }
      }
      await Promise.all(batch);
      ids.push(...roundIds);
      const by = Date.now() + waitMs;
      while (Date.now() < by && roundIds.some((id) => !this.outcomes.has(id))) await sleep(20);
    }
    return this.count(cids, ids, Date.now() - started);
  }

  private count(cids: readonly string[], ids: readonly string[], ms: number): OrderCounts {
    let answered = 0;
    let lost = 0;
    let duplicated = 0;
    const errorReplied: Record<string, number> = {};
    for (const id of ids) {
      const outcomes = this.outcomes.get(id) ?? [];
      if (outcomes.length === 0) lost += 1;
      if (outcomes.length > 1) duplicated += 1;
      const first = outcomes[0];
      if (first === 'answered') answered += 1;
      else if (first !== undefined) errorReplied[first] = (errorReplied[first] ?? 0) + 1;
    }
    let reordered = 0;
    let stationsReordered = 0;
    for (const cid of cids) {
      const seen = this.stations.get(cid)?.seen ?? [];
      let highest = -1;
      let here = 0;
      const once = new Set<number>();
      for (const seq of seen) {
        if (once.has(seq)) duplicated += 1;
        once.add(seq);
        if (seq < highest) here += 1;
        highest = Math.max(highest, seq);
      }
      reordered += here;
      if (here > 0) stationsReordered += 1;
    }
    return { sent: ids.length, answered, errorReplied, lost, duplicated, reordered, stationsReordered, ms };
  }

  private publish(cid: string, id: string, data: string): Promise<unknown> {
    const body = {
      MessageTypeId: 2,
      UniqueId: id,
      Action: 'DataTransfer',
      Payload: { vendorId: 'order', data },
    };
    return this.backend.publishAsync(`ocpp/cs/${cid}`, JSON.stringify(body), { qos: 1 });
  }

  /** Downstream messages node i took from its subscription (`ocpp_gateway_route_total`, all results). */
  async routed(index: number): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${this.nodes[index]!.ports.httpPort}/metrics`);
    const text = await res.text();
    return ROUTE_SERIES.reduce((n, r) => n + metricValue(text, `ocpp_gateway_route_total{result="${r}"}`), 0);
  }

  async readyz(index: number): Promise<number> {
    return (await fetch(`http://127.0.0.1:${this.nodes[index]!.ports.httpPort}/readyz`)).status;
  }

  /** kill -9 node `index` and start it again under its node id (it resumes its MQTT session). */
  async restart(index: number, subscribe: boolean): Promise<void> {
    await this.nodes[index]!.stop('SIGKILL');
    this.nodes[index] = await spawnGateway(this.nodeEnv(index, subscribe));
  }

  async stop(): Promise<void> {
    for (const station of this.stations.values()) station.ws.terminate();
    await this.backend.endAsync();
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    await this.broker.stop();
    await this.redis.stop();
  }
}
