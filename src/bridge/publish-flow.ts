import { BacklogFullError } from '../errors.js';
import { PACKET_ID_WINDOW } from './packet-ids.js';
import { LINK_RETRY, retryDelayMs, type RetryPolicy } from './transient-refusal.js';

/** One publish waiting for a send slot. */
export interface QueuedPublish {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 1 | 2;
  readonly properties: { userProperties: Record<string, string> } | undefined;
  readonly done: (error?: Error) => void;
  /** Sends refused with a transient reason code so far (transient-refusal.ts). */
  attempts?: number;
  /** When the first send was refused (ms, the policy's clock). */
  firstRefusedAt?: number;
  /** Its place in the publish order, set by the flow. */
  seq?: number;
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

  /** Publishes waiting out a back-off after a transient refusal. */
  private readonly retrying = new Set<QueuedPublish>();
  private nextSeq = 0;

  constructor(
    private readonly maxBacklog: number,
    private readonly hooks: PublishFlowHooks,
    private readonly retry: RetryPolicy | undefined = LINK_RETRY,
  ) {}

  get backlogSize(): number {
    return this.backlog.length - this.head;
  }

  /** Sent and not settled yet, or waiting out a back-off to be sent again. */
  get inFlight(): number {
    return this.inflight + this.retrying.size;
  }

  /** On every CONNACK: the broker's Receive Maximum (absent: 65,535, MQTT 5 §3.2.2.3.3). */
  connected(receiveMaximum: number | undefined, stillInFlight: number): void {
    // At most what the packet id window leaves free (packet-ids.ts), whatever the broker grants.
    this.limit = Math.min(receiveMaximum ?? 65_535, PACKET_ID_WINDOW / 2);
    // mqtt.js re-sends what it still holds after a reconnect; count only those.
    this.inflight = stillInFlight;
    this.pump();
  }

  /** Sends what waits, now that {@link PublishFlowHooks.connected} may say yes again. */
  wake(): void {
    this.pump();
  }

  publish(entry: QueuedPublish): void {
    entry.seq = this.nextSeq++;
    if (this.sendable() && this.backlogSize === 0) {
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
      if (!this.retryLater(entry, error)) entry.done(error);
      this.pump();
    });
  }

  /**
   * docs/architecture.md §4: a PUBACK/PUBREC of 0x97 Quota exceeded or 0x89 Server busy (MQTT 5
   * §3.4.2.1) says "not now", not "never": the publish goes back to the head of the backlog after
   * a back-off, a bounded number of times within a bounded time; after that it fails as before.
   */
  private retryLater(entry: QueuedPublish, error: Error | undefined): boolean {
    if (error === undefined || this.retry === undefined) return false;
    const now = this.retry.now();
    const delay = retryDelayMs(this.retry, error, entry.attempts ?? 0, now - (entry.firstRefusedAt ?? now));
    if (delay === undefined) return false;
    entry.attempts = (entry.attempts ?? 0) + 1;
    entry.firstRefusedAt ??= now;
    this.retrying.add(entry);
    this.retry.schedule(delay, () => {
      // failAll() got it first.
      if (!this.retrying.delete(entry)) return;
      // Back in its place: ahead of everything published after it.
      let at = this.head;
      while (at < this.backlog.length && (this.backlog[at]?.seq ?? 0) < (entry.seq ?? 0)) at += 1;
      this.backlog.splice(at, 0, entry);
      this.hooks.backlogChanged(this.backlogSize);
      this.pump();
    });
    return true;
  }

  /** A slot is free, the broker is there, and no refused publish waits to go first (order). */
  private sendable(): boolean {
    return this.retrying.size === 0 && this.inflight < this.limit && this.hooks.connected();
  }

  private pump(): void {
    const before = this.backlogSize;
    while (this.backlogSize > 0 && this.sendable()) {
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
    const waiting = [...this.retrying, ...this.backlog.slice(this.head)];
    this.retrying.clear();
    this.backlog = [];
    this.head = 0;
    this.hooks.backlogChanged(0);
    for (const entry of waiting) entry.done(error);
  }
}
