import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { MqttProtocolVersion } from '../config.js';

export interface MqttLinkOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly protocolVersion: MqttProtocolVersion;
}

export type UserProperties = Record<string, string>;
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/** mqtt.js reports a refused protocol level as CONNACK code 1 (3.1.1) or 132 (MQTT 5 §3.2.2.2). */
const UNSUPPORTED_PROTOCOL = new Set([1, 132]);

/**
 * The node's one MQTT connection. Connects with MQTT 5 and falls back to 3.1.1 when the broker
 * refuses version 5 (DESIGN §1); reconnects by itself and re-subscribes (mqtt.js `resubscribe`).
 * Start-up waits for the first CONNACK however long the broker is away, so a node never
 * accepts charge points it cannot bridge; readiness reports the wait.
 */
export class MqttLink {
  private handler: MessageHandler | undefined;

  private constructor(
    private readonly client: MqttClient,
    readonly protocolVersion: MqttProtocolVersion,
    private readonly log: Logger,
  ) {
    client.on('message', (topic, payload, packet) => {
      try {
        this.handler?.(topic, payload, packet);
      } catch (error) {
        // A bug in one message's handling must not take the node down with every socket on it.
        log.error(
          { topic, err: error instanceof Error ? error.stack : String(error) },
          'downstream handler failed',
        );
      }
    });
  }

  static async connect(options: MqttLinkOptions, log: Logger, metrics: Metrics): Promise<MqttLink> {
    let version = options.protocolVersion;
    for (;;) {
      const client = connect(options.url, MqttLink.clientOptions(options, version));
      const outcome = await MqttLink.firstConnect(client, log, options.url);
      if (outcome === 'connected') {
        const link = new MqttLink(client, version, log);
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

  private static clientOptions(options: MqttLinkOptions, version: MqttProtocolVersion): IClientOptions {
    const base: IClientOptions = {
      clientId: options.clientId,
      protocolVersion: version,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: true,
    };
    if (options.username !== undefined) base.username = options.username;
    if (options.password !== undefined) base.password = options.password;
    return base;
  }

  private static firstConnect(
    client: MqttClient,
    log: Logger,
    url: string,
  ): Promise<'connected' | 'refused'> {
    return new Promise((resolve) => {
      let attempts = 0;
      const onConnect = (): void => {
        cleanup();
        resolve('connected');
      };
      const onError = (error: Error & { code?: unknown }): void => {
        if (typeof error.code === 'number' && UNSUPPORTED_PROTOCOL.has(error.code)) {
          cleanup();
          resolve('refused');
          return;
        }
        log.warn({ err: error.message, url: redactUrl(url) }, 'mqtt connect failed; retrying');
      };
      const onClose = (): void => {
        attempts += 1;
        if (attempts === 1 || attempts % 10 === 0)
          log.warn({ url: redactUrl(url), attempts }, 'mqtt broker not reachable; retrying');
      };
      const cleanup = (): void => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
      };
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
    });
  }

  private watch(metrics: Metrics): void {
    metrics.mqttConnected.set(1);
    this.client.on('connect', () => {
      metrics.mqttConnected.set(1);
      this.log.info('mqtt reconnected');
    });
    this.client.on('close', () => metrics.mqttConnected.set(0));
    this.client.on('offline', () => this.log.warn('mqtt offline; publishes are held until reconnect'));
    this.client.on('error', (error) => this.log.error({ err: error.message }, 'mqtt error'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  async subscribe(filter: string, qos: 0 | 1 | 2): Promise<void> {
    const granted = await this.client.subscribeAsync(filter, { qos });
    const code = granted[0]?.qos;
    if (code === undefined || code >= 0x80)
      throw new Error(`subscription to ${filter} refused (code ${String(code)})`);
  }

  /** Fire-and-forget publish; `done` learns the broker's acknowledgement or the error. */
  publish(
    topic: string,
    payload: string,
    qos: 0 | 1 | 2,
    userProperties: UserProperties | undefined,
    done: (error?: Error) => void,
  ): void {
    // mqtt.js calls back with `null` on success.
    const callback = (error?: Error | null): void => done(error ?? undefined);
    const properties =
      this.protocolVersion === 5 && userProperties !== undefined ? { userProperties } : undefined;
    this.client.publish(topic, payload, properties === undefined ? { qos } : { qos, properties }, callback);
  }

  async end(): Promise<void> {
    await this.client.endAsync(false);
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[invalid url]';
  }
}
