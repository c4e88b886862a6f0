import type { ClusterConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { RedisLink } from './redis-link.js';
import { redisKeys } from './keys.js';
import type { SelfLiveness } from './self-liveness.js';

export interface DirectoryEvents {
  /** A node seen alive before has no heartbeat any more: its forwarded commands are lost. */
  lost(nodeId: string): void;
  /** A registered node without a heartbeat: a candidate for MQTT session adoption. */
  dead(nodeId: string, mqttClientId: string): void;
  /** A node seen dead before beats again (a partition healed): adopters give way to it. */
  revived?(nodeId: string): void;
}

/**
 * Node liveness (docs/architecture.md §5.3): `{prefix}:node:{nodeId}` with a TTL refreshed every heartbeat, and
 * `{prefix}:nodes`, a hash of registered nodes to their MQTT client ids (what a survivor needs to
 * adopt a dead node's session). Each beat also refreshes this node's view of who is alive, which
 * registry lookups use so that a stale owner entry costs no extra round trip.
 */
export interface NodeDirectoryOptions {
  readonly redis: RedisLink;
  readonly config: ClusterConfig;
  readonly nodeId: string;
  /** Registered beside the node id: what a survivor needs to adopt this node's MQTT session. */
  readonly mqttClientId: string;
  readonly events: DirectoryEvents;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
  /** Told of every beat's result: whether peers may judge this node dead. */
  readonly liveness: SelfLiveness;
}

export class NodeDirectory {
  private readonly alive = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  /** No dead-node verdicts before this: after a Redis outage every node needs a beat to return. */
  private graceUntil = 0;
  /** The last failed beat: owner entries lost meanwhile come back within a node TTL (absent-owner.ts). */
  private troubleAt = 0;
  private readonly membersKey: string;
  /** The first beat finds no key of ours; later ones finding none mean it expired meanwhile. */
  private beaten = false;
  /** When the last beat started, and how many are in flight ({@link beatIfDue}). */
  private beatStartedAt = 0;
  private beatsInFlight = 0;
  private readonly liveness: SelfLiveness;

  private readonly redis: RedisLink;
  private readonly config: ClusterConfig;
  readonly nodeId: string;
  private readonly mqttClientId: string;
  private readonly events: DirectoryEvents;
  private readonly metrics: ClusterMetrics;
  private readonly log: Logger;

  constructor(options: NodeDirectoryOptions) {
    ({
      redis: this.redis,
      config: this.config,
      nodeId: this.nodeId,
      mqttClientId: this.mqttClientId,
      events: this.events,
      metrics: this.metrics,
      log: this.log,
      liveness: this.liveness,
    } = options);
    const { redis, config } = options;
    this.membersKey = redisKeys.nodes(config.prefix);
    redis.onReconnect(() => {
      this.graceUntil = Date.now() + config.nodeTtlMs;
      void this.beat();
    });
    // The heartbeat's connection may be back after the command connection: beat as soon as it is.
    redis.beat.on('ready', () => {
      if (this.timer !== undefined) void this.beat();
    });
  }

  private livenessKey(nodeId: string): string {
    return redisKeys.node(this.config.prefix, nodeId);
  }

  async start(): Promise<void> {
    this.graceUntil = Date.now() + this.config.nodeTtlMs;
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.config.heartbeatMs);
    this.timer.unref();
  }

  /**
   * A beat now, if one is due and none is in flight; called from the registry hooks of socket
   * opens and closes (cluster-node.ts). When thousands of stations drop or reconnect at once,
   * libuv serves their socket events for seconds in one poll phase and the interval timer cannot
   * fire: a node busy serving a 57,000-station storm went 4.4-4.7 s without a beat and its peers
   * judged it dead and adopted its MQTT session (bench/RESULTS.md). The events themselves then
   * carry the beat; its writes leave within TUNING.turnBatchMaxMs (io/turn-batch.ts).
   */
  beatIfDue(): void {
    if (this.timer === undefined || this.beatsInFlight > 0) return;
    if (Date.now() - this.beatStartedAt < this.config.heartbeatMs) return;
    void this.beat();
  }

  private async beat(): Promise<void> {
    this.beatStartedAt = Date.now();
    this.beatsInFlight += 1;
    try {
      await this.beatOnce();
    } finally {
      this.beatsInFlight -= 1;
    }
  }

  private async beatOnce(): Promise<void> {
    // Its own connection (redis-link.ts): not queued behind the node's claims and releases.
    const { beat: cmd } = this.redis;
    try {
      // Before any verdict: a master that came back empty lost liveness keys too. A restart
      // found here runs the reconnect handlers (grace, a beat, re-assert) and ends this beat.
      if (await this.redis.restarted()) return;
      const sentAt = Date.now();
      const value = JSON.stringify({ mqttClientId: this.mqttClientId, at: sentAt });
      const [previous] = await Promise.all([
        cmd.set(this.livenessKey(this.nodeId), value, 'PX', this.config.nodeTtlMs, 'GET'),
        cmd.hset(this.membersKey, this.nodeId, this.mqttClientId),
      ]);
      this.redis.setAnswering(true);
      // Our key was gone: peers may have judged us dead (docs/architecture.md §5.13).
      this.liveness.beatOk(sentAt, this.beaten && previous === null);
      this.beaten = true;
      await this.refresh();
    } catch (error) {
      this.troubleAt = Date.now();
      this.redis.setAnswering(false);
      this.liveness.beatFailed(error);
      this.log.debug({ err: error }, 'heartbeat failed');
    }
  }

  private async refresh(): Promise<void> {
    const { beat: cmd } = this.redis;
    const members = await cmd.hgetall(this.membersKey);
    const others = Object.keys(members).filter((id) => id !== this.nodeId);
    const exists = await Promise.all(others.map((id) => cmd.exists(this.livenessKey(id))));
    let count = 1;
    others.forEach((id, i) => {
      const now = exists[i] === 1;
      if (now) count += 1;
      const before = this.alive.get(id);
      this.alive.set(id, now);
      if (now && before === false) this.events.revived?.(id);
      // After a Redis outage every node needs one beat to write its key again: no verdicts yet.
      if (now || this.inGrace) return;
      if (before === true) {
        this.log.warn({ node: id }, 'node heartbeat expired');
        this.events.lost(id);
      }
      this.events.dead(id, members[id] ?? '');
    });
    this.metrics.nodesAlive.set(count);
  }

  /** Within a liveness TTL of start-up or of a Redis reconnect: absence proves nothing yet. */
  get inGrace(): boolean {
    return Date.now() < this.graceUntil;
  }

  /**
   * Whether an owner entry missing now is missing for good: not within a node TTL of a failed
   * beat or of a reconnect or restart (the grace), by which time every live node has written
   * its entries back (docs/architecture.md §5.5).
   */
  settled(): boolean {
    const now = Date.now();
    return now >= this.graceUntil && now - this.troubleAt >= this.config.nodeTtlMs;
  }

  /** Asks Redis now, bypassing the view of the last beat (rejects when Redis is away). */
  async checkAlive(nodeId: string): Promise<boolean> {
    const now = (await this.redis.cmd.exists(this.livenessKey(nodeId))) === 1;
    if (nodeId !== this.nodeId) this.alive.set(nodeId, now);
    return now;
  }

  /** Alive as of the last beat; a node not seen yet is asked for directly. */
  async isAlive(nodeId: string): Promise<boolean> {
    if (nodeId === this.nodeId) return true;
    const known = this.alive.get(nodeId);
    if (known === true) return true;
    // Not seen, or not alive at the last beat: it may have (re)started since, so ask.
    return this.checkAlive(nodeId);
  }

  /** A `bye` from a node that shut down cleanly: treat it as gone at once. */
  markGone(nodeId: string): void {
    if (this.alive.get(nodeId) === true) this.events.lost(nodeId);
    this.alive.set(nodeId, false);
  }

  /** Nodes alive as of the last beat, this one excluded. */
  peers(): string[] {
    return [...this.alive].filter(([, up]) => up).map(([id]) => id);
  }

  /** Still in the member hash: not yet adopted by a survivor, nor gone cleanly. */
  async isMember(nodeId: string): Promise<boolean> {
    return (await this.redis.cmd.hexists(this.membersKey, nodeId)) === 1;
  }

  /** Removes a node from the member hash once its session has been adopted (or it left). */
  async forget(nodeId: string): Promise<void> {
    // A node restarted under the same id (a StatefulSet pod) is a member again: keep it.
    if (nodeId !== this.nodeId && (await this.checkAlive(nodeId))) return;
    this.alive.delete(nodeId);
    await this.redis.cmd.hdel(this.membersKey, nodeId);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([
      this.redis.cmd.del(this.livenessKey(this.nodeId)),
      this.redis.cmd.hdel(this.membersKey, this.nodeId),
    ]);
  }
}
