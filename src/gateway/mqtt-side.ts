import { brokerNeeds, warnBrokerShortfalls } from '../bridge/broker-limits.js';
import { DownstreamSubscriber } from '../bridge/downstream-subscriber.js';
import { EmbeddedBroker } from '../bridge/embedded-broker.js';
import { MqttLink, type MqttLinkOptions } from '../bridge/mqtt-link.js';
import { TopicMap } from '../bridge/topic-map.js';
import { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** The node's MQTT side, the same in both modes: link, topics, publisher and subscriber. */
export interface MqttSide {
  /** Set when no broker URL is configured: the embedded one this process runs. */
  readonly broker: EmbeddedBroker | undefined;
  readonly link: MqttLink;
  /** What the link was opened with (session adoption opens more links like it). */
  readonly options: MqttLinkOptions;
  /** The shared subscription group, unless the broker has none (the embedded one). */
  readonly sharedGroup: string | undefined;
  readonly topics: TopicMap;
  readonly publisher: UpstreamPublisher;
  readonly subscriber: DownstreamSubscriber;
}

export async function connectMqtt(config: Config, log: Logger, metrics: Metrics): Promise<MqttSide> {
  let broker: EmbeddedBroker | undefined;
  let url = config.mqtt.url;
  let username = config.mqtt.username;
  let password = config.mqtt.password;
  if (url === undefined) {
    const { embeddedUsername, embeddedPassword } = config.mqtt;
    const credentials =
      embeddedUsername !== undefined && embeddedPassword !== undefined
        ? { username: embeddedUsername, password: embeddedPassword }
        : undefined;
    broker = await EmbeddedBroker.start(config.mqtt.embeddedHost, config.mqtt.embeddedPort, log, credentials);
    url = `mqtt://${embeddedDialHost(broker.host)}:${broker.port}`;
    username = credentials?.username;
    password = credentials?.password;
  }
  const options: MqttLinkOptions = {
    url,
    clientId: config.mqtt.clientId,
    username,
    password,
    // aedes: MQTT 3.1.1 only, and no shared subscriptions.
    protocolVersion: broker === undefined ? config.mqtt.protocolVersion : 4,
    maxBacklog: config.mqtt.maxBacklog,
    // The embedded broker lives and dies with this process: nothing to keep a session for.
    sessionExpiryS: broker === undefined ? config.mqtt.sessionExpiryS : 0,
    keepaliveS: config.mqtt.keepaliveS,
    releaseOrphans: config.mqtt.releaseOrphans,
    ...(broker === undefined && config.mqtt.tls !== undefined ? { tls: config.mqtt.tls } : {}),
  };
  const link = await MqttLink.connect(options, log, metrics);
  const sharedGroup = broker === undefined ? config.mqtt.sharedGroup : undefined;
  warnBrokerShortfalls(
    link.connack.properties,
    brokerNeeds(config, sharedGroup, options.sessionExpiryS),
    log,
  );
  if (link.protocolVersion === 4 && broker === undefined) {
    log.warn(
      'MQTT 3.1.1 broker: no user properties; shared subscription kept ($share is a broker extension there)',
    );
  }
  const topics = new TopicMap(config.topics);
  const publisher = new UpstreamPublisher({
    link,
    topics,
    qos: config.mqtt.upstreamQos,
    nodeId: config.nodeId,
    metrics,
    log,
  });
  const subscriber = new DownstreamSubscriber(link, topics, publisher, metrics, log);
  return { broker, link, options, sharedGroup, topics, publisher, subscriber };
}

/** Where this process reaches its own broker: loopback when it listens on every address. */
function embeddedDialHost(bound: string): string {
  if (bound === '0.0.0.0' || bound === '::') return '127.0.0.1';
  return bound.includes(':') ? `[${bound}]` : bound;
}
