import { BacklogFullError } from '../errors.js';

/** One publish waiting for a send slot. */
export interface QueuedPublish {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 1 | 2;
  readonly properties: { userProperties: Record<string, string> } | undefined;
  readonly done: (error?: Error) => void;
}

export interface PublishFlowHooks {
  /** Sends now; `settled` must be called exactly once when the broker acknowledged or failed it. */
  send(entry: QueuedPublish, settled: (error?: Error) => void): void;
  connected(): boolean;
  backlogChanged(size: number): void;
  overflowed(): void;
}

/**
 * Outbound flow control for QoS 1/2 publishes. MQTT 5 §3.3.4 ([MQTT-3.3.4-7]): a client must not
 * have more unacknowledged QoS>0 PUBLISHes in flight than the broker's Receive Maximum (mosquitto
 * grants 20 by default and answers the excess with "Quota exceeded"); mqtt.js does not enforce
 * it. Publishes beyond it, and those made while the broker is away, wait here in order, up to a
 * bound; past the bound they fail at once (counted), never piling up in memory.
 */
export class PublishFlow {
  private inflight = 0;
  private limit = 65_535;
  private backlog: QueuedPublish[] = [];
  private head = 0;

  constructor(
    private readonly maxBacklog: number,
    private readonly hooks: PublishFlowHooks,
  ) {}

  get backlogSize(): number {
    return this.backlog.length - this.head;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** On every CONNACK: the broker's Receive Maximum (absent: 65,535, MQTT 5 §3.2.2.3.3). */
  connected(receiveMaximum: number | undefined, stillInFlight: number): void {
    this.limit = receiveMaximum ?? 65_535;
    // mqtt.js re-sends what it still holds after a reconnect; count only those.
    this.inflight = stillInFlight;
    this.pump();
  }

  publish(entry: QueuedPublish): void {
    if (this.backlogSize === 0 && this.hooks.connected() && this.inflight < this.limit) {
      this.start(entry);
      return;
    }
    if (this.backlogSize >= this.maxBacklog) {
      this.hooks.overflowed();
      entry.done(new BacklogFullError(this.maxBacklog));
      return;
    }
    this.backlog.push(entry);
    this.hooks.backlogChanged(this.backlogSize);
  }

  private start(entry: QueuedPublish): void {
    this.inflight += 1;
    let settled = false;
    this.hooks.send(entry, (error) => {
      if (settled) return;
      settled = true;
      this.inflight = Math.max(0, this.inflight - 1);
      entry.done(error);
      this.pump();
    });
  }

  private pump(): void {
    const before = this.backlogSize;
    while (this.backlogSize > 0 && this.inflight < this.limit && this.hooks.connected()) {
      const entry = this.backlog[this.head];
      this.head += 1;
      if (entry !== undefined) this.start(entry);
    }
    // Compact the array once the consumed prefix dominates (amortised O(1) dequeue).
    if (this.head > 1024 && this.head * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.head);
      this.head = 0;
    }
    if (this.backlogSize !== before) this.hooks.backlogChanged(this.backlogSize);
  }

  /** Fails everything still waiting (shutdown). */
  failAll(error: Error): void {
    const waiting = this.backlog.slice(this.head);
    this.backlog = [];
    this.head = 0;
    this.hooks.backlogChanged(0);
    for (const entry of waiting) entry.done(error);
  }
}
