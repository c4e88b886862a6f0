import { connect, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { MqttProtocolVersion } from '../config/index.js';
import { DEFERRED_ACK, Inbox, type MessageHandler } from './inbox.js';
import { clientOptions, firstConnect, keepNoDelay, redactUrl, type MqttLinkOptions } from './mqtt-connect.js';
import { LinkGuard } from './link-guard.js';
import { BrokerLimits } from './publish-check.js';
import { PublishFlow } from './publish-flow.js';
import { dropOutgoing, RefusalGuard } from './refusal-guard.js';
import { PublishRefusedError } from '../errors.js';
import { installBrokerWrites } from './broker-writes.js';
import { OrphanRelease } from './orphan-release.js';
import { WindowedPacketIds } from './packet-ids.js';
import { RateLimitedWarn } from '../observability/rate-limited-warn.js';

export type UserProperties = Record<string, string>;
export type { MessageHandler, MqttLinkOptions };

/** mqtt.js publish options: the QoS, and the MQTT 5 user properties when there are some. */
function publishOptions<Q>(qos: Q, properties: { userProperties: UserProperties } | undefined) {
  return properties === undefined ? { qos } : { qos, properties };
}

/** How long a broker gets to take the DISCONNECT and close its side at shutdown. */
const DISCONNECT_MS = 1000;

/** At most one backlog-overflow log line per this interval (the metric counts every one). */
const OVERFLOW_LOG_INTERVAL_MS = 10_000;
const OVERFLOW_MESSAGE = 'mqtt publish backlog full: publishes refused (OCPP_GW_MQTT_MAX_BACKLOG)';

/**
 * The node's one MQTT connection. Connects with MQTT 5 and falls back to 3.1.1 when the broker
 * refuses version 5 (docs/architecture.md §4.5); reconnects by itself (§4.1) and re-subscribes (mqtt.js `resubscribe`).
 * Start-up waits for the first CONNACK however long the broker is away, so a node never
 * accepts charge points it cannot bridge; readiness reports the wait.
 */
export class MqttLink {
  private readonly flow: PublishFlow;
  /** One line per interval, not one per refused message. */
  private readonly overflowWarn: RateLimitedWarn;
  private readonly limits: BrokerLimits;
  /** Re-subscription on reconnect, session takeover (link-guard.ts). */
  readonly guard: LinkGuard;

  private constructor(
    private readonly client: MqttClient,
    private readonly inbox: Inbox,
    readonly protocolVersion: MqttProtocolVersion,
    /** The first CONNACK: the limits the broker advertised at start (MQTT 5 §3.2.2.3). */
    readonly connack: IConnackPacket,
    maxBacklog: number,
    private readonly log: Logger,
    private readonly metrics: Metrics | undefined,
    orphans: OrphanRelease | undefined,
  ) {
    this.overflowWarn = new RateLimitedWarn(log, OVERFLOW_MESSAGE, OVERFLOW_LOG_INTERVAL_MS);
    this.flow = new PublishFlow(maxBacklog, {
      send: (entry, settled) =>
        client.publish(entry.topic, entry.payload, publishOptions(entry.qos, entry.properties), (error) =>
          settled(error ?? undefined),
        ),
      connected: () => client.connected && orphans?.releasing !== true,
      backlogChanged: (size) => metrics?.mqttBacklog.set(size),
      overflowed: () => {
        metrics?.mqttBacklogOverflow.inc();
        this.overflowWarn.note(undefined, { maxBacklog, connected: client.connected });
      },
    });
    this.flow.connected(connack.properties?.receiveMaximum, 0);
    client.on('connect', (packet) => {
      this.flow.connected(packet.properties?.receiveMaximum, Object.keys(client.outgoing).length);
      orphans?.whenReleased(() => this.flow.wake());
    });
    this.limits = new BrokerLimits(client, connack);
    this.guard = new LinkGuard(client, log, (publish) => this.publishAgain(publish), orphans);
    new RefusalGuard(client, (error) => this.refused(error));
  }

  /** A QoS 2 publish whose fate the restarted broker contradicted (released-publishes.ts). */
  private publishAgain(publish: IPublishPacket): void {
    const { topic, messageId } = publish;
    this.log.warn({ topic, messageId }, 'broker session contradicts a released publish: published again');
    const userProperties = publish.properties?.userProperties as UserProperties | undefined;
    this.publish(topic, String(publish.payload), publish.qos, userProperties, (error) => {
      // A refusal is logged (and counted by reason) where it is decided, in refused().
      if (error !== undefined && !(error instanceof PublishRefusedError))
        this.log.error({ err: error, topic }, 'mqtt publish failed');
    });
  }

  /** One publish failed on purpose, instead of being sent (again): counted and reported. */
  private refused(error: PublishRefusedError): void {
    this.metrics?.mqttPublishRejected.labels(error.reason).inc();
    this.log.warn({ err: error, reason: error.reason, topic: error.topic }, 'mqtt publish refused');
  }

  /** Messages handed to the handler whose PUBACK has not been sent yet. */
  get unackedCount(): number {
    return this.inbox.unackedCount;
  }

  /** `metrics` is undefined for a secondary link (an adopted session), which must not report as the node's. */
  static async connect(
    options: MqttLinkOptions,
    log: Logger,
    metrics: Metrics | undefined,
  ): Promise<MqttLink> {
    let version = options.protocolVersion;
    for (;;) {
      const inbox = new Inbox(log);
      const packetIds = new WindowedPacketIds();
      const client = connect(options.url, clientOptions(options, version, inbox, packetIds));
      packetIds.attach(client);
      keepNoDelay(client);
      installBrokerWrites(client);
      inbox.attach(client);
      const orphans = options.releaseOrphans === false ? undefined : new OrphanRelease(client, log);
      const outcome = await firstConnect(client, log, options.url);
      if (outcome !== 'refused') {
        await orphans?.released(); // no packet id is taken before the resume PUBRELs are answered
        if (options.reconnect === false) client.options.reconnectPeriod = 0;
        const link = new MqttLink(client, inbox, version, outcome, options.maxBacklog, log, metrics, orphans);
        link.watch(metrics);
        log.info({ url: redactUrl(options.url), protocolVersion: version }, 'mqtt connected');
        return link;
      }
      await client.endAsync(true);
      if (version === 5) {
        log.warn({ url: redactUrl(options.url) }, 'broker refused MQTT 5; falling back to 3.1.1');
        version = 4;
      } else {
        throw new Error('broker refused MQTT 3.1.1 as well');
      }
    }
  }

  private watch(metrics: Metrics | undefined): void {
    metrics?.mqttConnected.set(1);
    this.client.on('connect', () => {
      metrics?.mqttConnected.set(1);
      this.log.info('mqtt reconnected');
    });
    this.client.on('close', () => metrics?.mqttConnected.set(0));
    this.client.on('offline', () => this.log.warn('mqtt offline; publishes are held until reconnect'));
    this.client.on('error', (error) => {
      if (error !== DEFERRED_ACK) this.log.error({ err: error }, 'mqtt error');
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** True once the connection is closed and will not come back (a one-shot link, or ended). */
  get closedForGood(): boolean {
    return !this.client.connected && (this.client.disconnecting || this.client.options.reconnectPeriod === 0);
  }

  onMessage(handler: MessageHandler): void {
    this.inbox.onMessage(handler);
  }

  async subscribe(filter: string, qos: 0 | 1 | 2): Promise<void> {
    const granted = await this.client.subscribeAsync(filter, { qos });
    const code = granted[0]?.qos;
    if (code === undefined || code >= 0x80)
      throw new Error(`subscription to ${filter} refused (code ${String(code)})`);
    this.guard.remember(filter, qos);
  }

  /**
   * Publishes in order; `done` learns the broker's acknowledgement or the error. QoS 1/2 go
   * through the flow control (broker Receive Maximum, bounded backlog while it is away). A
   * topic or size the broker may close the connection on fails at once with
   * {@link PublishRefusedError}: sent, it would take every other publish down with it.
   */
  publish(
    topic: string,
    payload: string,
    requestedQos: 0 | 1 | 2,
    userProperties: UserProperties | undefined,
    done: (error?: Error) => void,
  ): void {
    const qos = this.limits.qos(requestedQos);
    const properties =
      this.protocolVersion === 5 && userProperties !== undefined ? { userProperties } : undefined;
    const refusal = this.limits.refusal(topic, payload, qos, properties?.userProperties);
    if (refusal !== undefined) {
      this.refused(refusal);
      done(refusal);
      return;
    }
    if (qos === 0) {
      // mqtt.js calls back with `null` on success.
      this.client.publish(topic, payload, publishOptions(qos, properties), (error) =>
        done(error ?? undefined),
      );
      return;
    }
    this.flow.publish({ topic, payload, qos, properties, done });
  }

  async unsubscribe(filter: string): Promise<void> {
    this.guard.forget(filter);
    await this.client.unsubscribeAsync(filter);
  }

  /** Publishes waiting or in flight, or received messages not yet acknowledged. */
  get busy(): boolean {
    return this.flow.backlogSize > 0 || this.flow.inFlight > 0 || this.inbox.unackedCount > 0;
  }

  /**
   * Waits up to `graceMs` for publishes and PUBACKs, then disconnects. `endSession`, once all is
   * settled, sets Session Expiry 0 in the DISCONNECT (MQTT 5 §3.14.2.2.2): nothing waits for a node
   * that will not return. Bounded whatever the broker does: what it has not acknowledged by then
   * fails; a broker not taking the DISCONNECT in {@link DISCONNECT_MS} has the socket closed.
   */
  async end(graceMs = 5000, endSession = false): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.busy && this.client.connected && Date.now() < deadline) await sleep(20);
    // Unsettled (broker slow or away): the session stays, for the node restarted under its id (§4.3).
    const dropSession = endSession && !this.busy;
    const stopped = new Error('gateway stopped before the broker acknowledged');
    this.flow.failAll(stopped);
    // mqtt.js's end() waits for every outstanding acknowledgement, forever if it never comes.
    for (const id of Object.keys(this.client.outgoing)) dropOutgoing(this.client, Number(id), stopped);
    const properties = dropSession && this.protocolVersion === 5 ? { sessionExpiryInterval: 0 } : undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.stream.destroy();
        resolve();
      }, DISCONNECT_MS);
      this.client.end(false, properties === undefined ? {} : { properties }, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
