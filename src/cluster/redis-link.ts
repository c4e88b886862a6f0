import { Cluster } from 'ioredis';
import type { Writable } from 'node:stream';
import type { ClusterConfig } from '../config/index.js';
import { within } from '../io/deadline.js';
import { BusSubscriber } from './bus-subscriber.js';
import { TurnBatch } from '../io/turn-batch.js';
import type { Logger } from '../observability/logger.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import { guardStoppedSubscribers } from './subscriber-guard.js';
import { createClient, retry, waitReady, type Client } from './redis-clients.js';

/**
 * The node's Redis connections (docs/architecture.md §5.1): one for commands, one for the route-bus
 * subscription (a subscribed connection cannot run commands), one for the heartbeat (§5.3): a
 * beat sent behind thousands of claims and releases on the command connection waited 4.2 s in a
 * reconnect storm, and the node lapsed. Standalone Redis via
 * `OCPP_GW_REDIS_URL` (redis://, rediss://, ACL user and password), or Redis Cluster via
 * `OCPP_GW_REDIS_CLUSTER_NODES`, where the route bus uses sharded pub/sub so a node's channel
 * lives on one shard instead of being broadcast to all of them.
 *
 * Commands fail fast while Redis is away (no offline queue): a command for another node is then
 * answered `unroutable` at once instead of hanging, and local traffic does not wait on Redis.
 */
export class RedisLink {
  private readonly reconnectHandlers: (() => void)[] = [];
  private wasLost = false;
  /** The command sockets, corked per event-loop turn (turn-batch.ts). */
  private readonly batch = new TurnBatch(() => this.streams());
  /** `run_id` per master address, as last seen by {@link restarted}. */
  private readonly runIds = new Map<string, string>();

  private constructor(
    readonly cmd: Client,
    /** The heartbeat's own connection (node-directory.ts): liveness key, member hash, restarts. */
    readonly beat: Client,
    private readonly sub: BusSubscriber,
    readonly sharded: boolean,
    private readonly log: Logger,
    private readonly metrics: ClusterMetrics,
  ) {
    // Every command, scripts included, passes through sendCommand: batching there covers all.
    const client = cmd as unknown as { sendCommand: (...args: unknown[]) => unknown };
    const send = client.sendCommand.bind(cmd);
    client.sendCommand = (...args: unknown[]) => {
      this.batch.hold();
      return send(...args);
    };
    cmd.on('ready', () => {
      metrics.redisConnected.set(1);
      if (!this.wasLost) return;
      this.wasLost = false;
      log.info('redis reconnected');
      for (const handler of this.reconnectHandlers) handler();
    });
    cmd.on('close', () => {
      metrics.redisConnected.set(0);
      if (!this.wasLost) log.warn('redis connection lost; cross-node routing fails until it is back');
      this.wasLost = true;
    });
    for (const client of [cmd, beat])
      client.on('error', (error: Error) => log.debug({ err: error }, 'redis error'));
  }

  static async connect(
    config: ClusterConfig,
    nodeId: string,
    log: Logger,
    metrics: ClusterMetrics,
  ): Promise<RedisLink> {
    const sharded = config.clusterNodes.length > 0;
    if (sharded) guardStoppedSubscribers(log); // an ioredis bug ended the process (subscriber-guard.ts)
    const cmd = createClient(config, `ocpp-gw:${nodeId}`, false);
    const beat = createClient(config, `ocpp-gw:${nodeId}:beat`, false);
    const sub = createClient(config, `ocpp-gw:${nodeId}:bus`, true);
    await Promise.all([
      waitReady(cmd, log, 'commands'),
      waitReady(beat, log, 'heartbeat'),
      waitReady(sub, log, 'route bus'),
    ]);
    metrics.redisConnected.set(1);
    log.info({ mode: sharded ? 'cluster' : 'standalone', prefix: config.prefix }, 'redis connected');
    const make = (): Client => createClient(config, `ocpp-gw:${nodeId}:bus`, true);
    return new RedisLink(cmd, beat, new BusSubscriber(sub, make, sharded, log), sharded, log, metrics);
  }

  /** The command sockets that are ready (one per master on Redis Cluster). */
  private streams(): Writable[] {
    const clients = this.cmd instanceof Cluster ? this.cmd.nodes('master') : [this.cmd];
    const streams: Writable[] = [];
    for (const client of clients) {
      const stream = (client as unknown as { stream?: Writable }).stream;
      if (stream !== undefined && client.status === 'ready') streams.push(stream);
    }
    return streams;
  }

  /** False while heartbeats go unanswered (a silent cut keeps the socket `ready`). */
  private answering = true;

  get ready(): boolean {
    return this.cmd.status === 'ready' && this.answering;
  }

  /** The heartbeat's verdict: Redis answers, or it does not (readiness, the connected gauge). */
  setAnswering(answering: boolean): void {
    if (answering === this.answering) return;
    this.answering = answering;
    this.metrics.redisConnected.set(answering && this.cmd.status === 'ready' ? 1 : 0);
  }

  /**
   * Runs after each reconnect that follows a lost connection, and after {@link restarted}: Redis
   * (or one master of a Redis Cluster) may have come back empty.
   */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  /**
   * Each master's `run_id` changed since the last call? One Redis Cluster master can restart empty
   * while the client stays ready (no reconnect seen): so the node notices it lost part of the registry.
   */
  async restarted(): Promise<boolean> {
    const clients = this.beat instanceof Cluster ? this.beat.nodes('master') : [this.beat];
    let changed = false;
    await Promise.all(
      clients.map(async (client) => {
        const runId = /run_id:(\w+)/.exec(await client.info('server'))?.[1];
        const address = `${client.options.host ?? ''}:${client.options.port ?? 0}`;
        const before = this.runIds.get(address);
        if (runId === undefined) return;
        this.runIds.set(address, runId);
        if (before !== undefined && before !== runId) changed = true;
      }),
    );
    if (changed) {
      this.log.warn('a redis server restarted; re-asserting ownership');
      for (const handler of this.reconnectHandlers) handler();
    }
    return changed;
  }

  /** PUBLISH (SPUBLISH on Redis Cluster); resolves to the number of receivers. */
  async publish(channel: string, payload: Buffer): Promise<number> {
    if (!this.sharded) return this.cmd.publish(channel, payload);
    return Number(await this.cmd.spublish(channel, payload));
  }

  /** Subscribes, retrying: a Redis Cluster at start-up may still have uncovered slots. */
  async subscribe(channel: string, handler: (payload: Buffer) => void): Promise<void> {
    this.sub.listen(channel, handler);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sub.subscribe(channel);
        break;
      } catch (error) {
        if (attempt % 10 === 1) this.log.warn({ channel, attempt, err: error }, 'route bus subscribe failed');
        await new Promise((resolve) => setTimeout(resolve, retry(attempt)));
      }
    }
    this.log.info({ channel, sharded: this.sharded }, 'route bus subscribed');
  }

  /** Subscribes again on the same connection (`fresh`: on a new one), for a lost subscription. */
  async resubscribe(channel: string, fresh = false): Promise<void> {
    if (fresh) await this.sub.renew();
    else await this.sub.subscribe(channel);
  }

  /** QUIT, or the sockets closed after `graceMs`: a Redis that stopped answering never replies. */
  async quit(graceMs = 1000): Promise<void> {
    await within(Promise.allSettled([this.sub.quit(), this.cmd.quit(), this.beat.quit()]), graceMs);
    this.sub.disconnect();
    for (const client of [this.cmd, this.beat]) if (client.status !== 'end') client.disconnect();
  }
}
