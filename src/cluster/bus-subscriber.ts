import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';

type Client = Redis | Cluster;
type Handler = (payload: Buffer) => void;

/**
 * The route bus's subscribed connection (docs/architecture.md §5.1, §5.4), replaceable: after
 * every node of a Redis Cluster restarted at once, ioredis can be left with a sharded subscriber
 * that ended for good (its connections do not reconnect on their own, and the group rebuilds
 * them only on a slot-map change) or with a re-subscription refused by CLUSTERDOWN and dropped.
 * Subscribing again goes to that dead subscriber; a fresh client is the way back.
 */
export class BusSubscriber {
  private readonly handlers = new Map<string, Handler>();
  private readonly event: 'smessageBuffer' | 'messageBuffer';

  constructor(
    private client: Client,
    private readonly make: () => Client,
    private readonly sharded: boolean,
    private readonly log: Logger,
  ) {
    this.event = sharded ? 'smessageBuffer' : 'messageBuffer';
    this.wire(client);
  }

  private wire(client: Client): void {
    client.on('error', (error: Error) => this.log.debug({ err: error }, 'redis error'));
    client.on(this.event, (name: Buffer, payload: Buffer) => this.handlers.get(name.toString())?.(payload));
  }

  /** Where messages on `channel` go, on this client and on any that replaces it. */
  listen(channel: string, handler: Handler): void {
    this.handlers.set(channel, handler);
  }

  /**
   * SSUBSCRIBE (SUBSCRIBE); a no-op on the server if the connection has it already. async: a
   * synchronous ioredis throw (a Cluster with uncovered slots has no slot map) becomes a rejection.
   */
  async subscribe(channel: string): Promise<void> {
    if (this.sharded) await this.client.ssubscribe(channel);
    else await this.client.subscribe(channel);
  }

  /** A fresh client replaces the current one and subscribes to every channel listened on. */
  async renew(): Promise<void> {
    const old = this.client;
    this.client = this.make();
    this.wire(this.client);
    old.removeAllListeners(this.event);
    old.disconnect();
    for (const channel of this.handlers.keys()) await this.subscribe(channel);
  }

  quit(): Promise<unknown> {
    return this.client.quit();
  }

  disconnect(): void {
    if (this.client.status !== 'end') this.client.disconnect();
  }
}
