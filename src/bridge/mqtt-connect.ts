import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt';
import type { Logger } from '../observability/logger.js';
import type { MqttProtocolVersion } from '../config/index.js';
import { DEFERRED_ACK, type Inbox } from './inbox.js';
import type { WindowedPacketIds } from './packet-ids.js';

/** What {@link clientOptions} needs of the link's options. */
export interface ConnectOptions {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** 0: clean session. Otherwise the broker keeps the session (and unacked messages) this long. */
  readonly sessionExpiryS: number;
  /** MQTT keepalive (s); mqtt.js closes the link when a PINGRESP is a keepalive late. @default 30 */
  readonly keepaliveS?: number;
  /** A private CA for the broker and this node's client certificate (PEM), for mqtts:// and wss://. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/** What an MqttLink (mqtt-link.ts) connects with. */
export interface MqttLinkOptions extends ConnectOptions {
  readonly url: string;
  readonly protocolVersion: MqttProtocolVersion;
  /** QoS>0 publishes that may wait for a send slot or for the broker to come back. */
  readonly maxBacklog: number;
  /**
   * false: once connected, never reconnect (an adopted session: when its owner comes back and
   * takes the client id over, MQTT 5 §3.1.4-3, the adopter must give way, not fight for it).
   * @default true
   */
  readonly reconnect?: boolean;
  /**
   * false: a resumed session's half-done QoS 2 publishes of an earlier connection are left as they
   * are (orphan-release.ts; `OCPP_GW_MQTT_RELEASE_ORPHANS`). @default true
   */
  readonly releaseOrphans?: boolean;
}

/** The commands the broker may have outstanding to us (MQTT 5 Receive Maximum, §3.1.2.11.3). */
const RECEIVE_MAXIMUM = 65_535;

/** mqtt.js reports a refused protocol level as CONNACK code 1 (3.1.1) or 132 (MQTT 5 §3.2.2.2). */
const UNSUPPORTED_PROTOCOL = new Set([1, 132]);

export function clientOptions(
  options: ConnectOptions,
  version: MqttProtocolVersion,
  inbox: Inbox,
  packetIds: WindowedPacketIds,
): IClientOptions {
  const persistent = options.sessionExpiryS > 0;
  const base: IClientOptions = {
    clientId: options.clientId,
    protocolVersion: version,
    // docs/architecture.md §4.3: a persistent session keeps unacknowledged commands at the broker when this
    // node dies, for a survivor to adopt. MQTT 5 §3.1.2.4 Clean Start / §3.1.2.11.2 expiry.
    clean: !persistent,
    properties:
      version === 5
        ? {
            receiveMaximum: RECEIVE_MAXIMUM,
            ...(persistent ? { sessionExpiryInterval: options.sessionExpiryS } : {}),
          }
        : undefined,
    customHandleAcks: inbox.customHandleAcks,
    messageIdProvider: packetIds,
    keepalive: options.keepaliveS ?? 30,
    // A one-shot link (reconnect: false) retries only until its first CONNACK (see connect()).
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    resubscribe: true,
    // Hot-path costs measured under load: mqtt.js's (disabled) debug logging is called several
    // times per packet, and rescheduling the keepalive timer on every send inserts a timer.
    // With a steady stream of publishes the ping is not needed to keep the link alive anyway.
    log: () => undefined,
    reschedulePings: false,
  };
  if (options.username !== undefined) base.username = options.username;
  if (options.password !== undefined) base.password = options.password;
  if (options.tls?.ca !== undefined) base.ca = options.tls.ca;
  if (options.tls?.cert !== undefined) base.cert = options.tls.cert;
  if (options.tls?.key !== undefined) base.key = options.tls.key;
  return base;
}

interface NoDelay {
  setNoDelay(enable: boolean): unknown;
}

/**
 * TCP_NODELAY on the broker socket, now and on every reconnect (mqtt.js builds a new socket for
 * each and sets no socket option). With Nagle's algorithm on, a small packet written while an
 * earlier one is unacknowledged waits for the peer's ACK, which Linux delays by up to 40 ms.
 * Writes are already one per event-loop turn (io/write-coalescer.ts), so nothing is gained by it.
 * WebSocket transports are left alone (`ws` sets the option on its own socket).
 */
export function keepNoDelay(client: MqttClient): void {
  const set = (): void => {
    const stream = client.stream as Partial<NoDelay> | undefined;
    if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(true);
  };
  // The first CONNECT is written inside mqtt.connect(), before this listener exists.
  set();
  client.on('packetsend', (packet) => {
    if (packet.cmd === 'connect') set();
  });
}

/** Resolves with the first CONNACK, or 'refused' when the broker refuses the protocol level. */
export function firstConnect(
  client: MqttClient,
  log: Logger,
  url: string,
): Promise<IConnackPacket | 'refused'> {
  return new Promise((resolve) => {
    let attempts = 0;
    const onConnect = (connack: IConnackPacket): void => {
      cleanup();
      resolve(connack);
    };
    const onError = (error: Error & { code?: unknown }): void => {
      if (error === DEFERRED_ACK) return;
      if (typeof error.code === 'number' && UNSUPPORTED_PROTOCOL.has(error.code)) {
        cleanup();
        resolve('refused');
        return;
      }
      log.warn({ err: error, url: redactUrl(url) }, 'mqtt connect failed; retrying');
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

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[invalid url]';
  }
}
