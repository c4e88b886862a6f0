import { setTimeout as sleep } from 'node:timers/promises';
import { MqttLink, type MqttLinkOptions } from '../bridge/mqtt-link.js';
import type { Ack, Release } from '../ocpp/message.js';
import type { ClusterMetrics } from '../observability/cluster-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { NodeDirectory } from './node-directory.js';
import type { RedisLink } from './redis-link.js';
import { redisKeys } from './keys.js';
import { withScripts } from './redis-scripts.js';
import { AdoptionError } from '../errors.js';

export type HandleMessage = (
  topic: string,
  payload: Buffer,
  redelivered: boolean,
  ack: Ack,
  release: Release,
  live: () => boolean,
) => void;

export interface AdopterOptions {
  /** The node's own MQTT options; only the client id changes. */
  readonly mqtt: MqttLinkOptions;
  /** The shared downstream filter, unsubscribed at once so no new messages come to the session. */
  readonly filter: string;
  readonly prefix: string;
  readonly nodeId: string;
  /** The session is ended once no message came for this long and every one is answered. */
  readonly quietMs: number;
  /** Upper bound for one adoption (also the lock's lifetime). */
  readonly maxMs: number;
  readonly redis: RedisLink;
  readonly directory: NodeDirectory;
  /** Each message of the adopted session, handled like any downstream message. */
  readonly handle: HandleMessage;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
}

/**
 * Adopts a dead node's MQTT session (docs/architecture.md §5.8): connects with the dead node's client id (clean
 * start false), so the broker hands over what it still holds for it (messages the dead node
 * never acknowledged, redelivered with DUP, and those queued for it since); handles each like
 * any downstream message; then ends the session (expiry 0) so nothing waits for a node that will
 * never return. One survivor does it, under a Redis lock.
 */
export class SessionAdopter {
  private readonly active = new Set<string>();
  /** Nodes that took their session back from us: not adopted again until seen alive (revived). */
  private readonly gaveWay = new Set<string>();
  private stopped = false;

  private readonly redis: RedisLink;
  private readonly directory: NodeDirectory;
  private readonly handle: HandleMessage;
  private readonly metrics: ClusterMetrics;
  private readonly log: Logger;

  constructor(private readonly options: AdopterOptions) {
    ({
      redis: this.redis,
      directory: this.directory,
      handle: this.handle,
      metrics: this.metrics,
      log: this.log,
    } = options);
  }

  adopt(deadNodeId: string, mqttClientId: string): void {
    if (this.stopped || this.active.has(deadNodeId) || this.gaveWay.has(deadNodeId) || mqttClientId === '')
      return;
    this.active.add(deadNodeId);
    void this.run(deadNodeId, mqttClientId).finally(() => this.active.delete(deadNodeId));
  }

  private async run(dead: string, clientId: string): Promise<void> {
    const { options, log } = this;
    const lockKey = redisKeys.adopt(options.prefix, dead);
    try {
      const lock = await this.redis.cmd.set(lockKey, options.nodeId, 'PX', options.maxMs, 'NX');
      if (lock !== 'OK') return; // another survivor is on it
    } catch {
      return; // Redis away: the next heartbeat tries again
    }
    const startedAt = Date.now();
    let link: MqttLink | undefined;
    // Whether the lock goes when this run ends; a give-way leaves it (see the 'returned' branch).
    let release = true;
    try {
      // It may have restarted under the same id (and resumed its own session) since the verdict,
      // or another survivor may have adopted it between our verdict and our lock.
      if (await this.directory.checkAlive(dead)) return;
      if (!(await this.directory.isMember(dead))) return;
      log.warn({ node: dead, clientId }, 'adopting the MQTT session of a dead node');
      link = await Promise.race([
        MqttLink.connect({ ...options.mqtt, clientId, reconnect: false }, log, undefined),
        sleep(10_000, undefined, { ref: false }).then(() => {
          throw new AdoptionError('the broker did not accept the adopted session within 10 s');
        }),
      ]);
      // The node may have beaten between the check above and the handover: back from a failover,
      // it writes commands again. The session goes back to it at once, no message handled: those
      // that reached us wait unacknowledged (bridge/inbox.ts) and go to the node again when it
      // reconnects. Handled here, they raced the node's own handling of the same messages (a
      // chaos run: 534 reordered, 17 written twice; docs/architecture.md §5.8).
      if (await this.directory.checkAlive(dead)) {
        this.metrics.adoptions.labels('returned').inc();
        log.warn({ node: dead }, 'adoption abandoned: the node beat again as its session was handed over');
        await link.end(0);
        link = undefined;
        return;
      }
      let last = Date.now();
      let handled = 0;
      const adopted: MqttLink = link;
      link.onMessage((topic, payload, _packet, ack, release) => {
        last = Date.now();
        handled += 1;
        // Every message of an adopted session counts as a redelivery, whatever its DUP flag: one
        // the broker queued while the node was dead arrives here with DUP 0, yet goes to the node
        // again (DUP 1) if it comes back and takes the session over before we acknowledged it. As
        // a fresh message our copy would take the written-mark unconditionally and be written a
        // second time after the node's copy (docs/architecture.md §5.7, §5.8).
        // Once the node took its session back, what we decide is a second outcome (Delivery.live).
        this.handle(topic, payload, true, ack, release, () => !adopted.closedForGood);
      });
      await link.unsubscribe(options.filter).catch(() => undefined);
      while (Date.now() - startedAt < options.maxMs) {
        if (Date.now() - last >= options.quietMs && link.unackedCount === 0) break;
        // The node came back and took its client id over: the session is its own again, and
        // what we handled but could not acknowledge is redelivered to it (written-marks stop
        // a second write to the charge point).
        if (link.closedForGood) {
          // Steps back for good: the node is alive, whatever Redis says of it (docs/architecture.md §5.13).
          this.gaveWay.add(dead);
          // The lock stays until it expires (docs/architecture.md §5.8): the node that took its
          // session back may not have written its liveness key yet (a restarted node connects
          // to the broker before its first beat), so another survivor taking a released lock
          // would still find it dead and adopt the session a second time, away from its owner.
          release = false;
          this.metrics.adoptions.labels('returned').inc();
          log.warn({ node: dead, messages: handled }, 'adoption ended: the node is back');
          await link.end(0);
          link = undefined;
          return;
        }
        await sleep(100);
      }
      await link.end(1000, true);
      link = undefined;
      await this.directory.forget(dead);
      this.metrics.adoptions.labels('adopted').inc();
      log.warn({ node: dead, messages: handled, ms: Date.now() - startedAt }, 'adopted session ended');
    } catch (error) {
      this.metrics.adoptions.labels('failed').inc();
      log.error({ node: dead, err: error }, 'session adoption failed; retrying later');
      await link?.end(0).catch(() => undefined);
    } finally {
      // Compare-and-delete: an adoption that outlived the lock must not drop another survivor's.
      if (release) await this.unlock(lockKey);
    }
  }

  private async unlock(lockKey: string): Promise<void> {
    await withScripts(this.redis.cmd)
      .ocppRelease(lockKey, this.options.nodeId)
      .catch(() => 0);
  }

  /** The node beats again: should it die later, it may be adopted again. */
  revived(nodeId: string): void {
    this.gaveWay.delete(nodeId);
  }

  stop(): void {
    this.stopped = true;
  }
}
