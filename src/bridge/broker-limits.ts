import type { IConnackPacket } from 'mqtt';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';

export type ConnackProperties = NonNullable<IConnackPacket['properties']>;

/** What the gateway will ask of the broker, from its configuration. */
export interface BrokerNeeds {
  /** Largest charge-point frame; its publish adds the topic, the envelope and user properties. */
  readonly maxFrameBytes: number;
  readonly upstreamQos: 0 | 1 | 2;
  /** Cluster mode: with a `$share` group set, the broker spreads commands over the nodes. */
  readonly cluster: boolean;
  readonly sharedGroup: string | undefined;
  /** The Session Expiry Interval the gateway asks for (0: none). */
  readonly sessionExpiryS: number;
}

/** `sharedGroup` and `sessionExpiryS` as the gateway uses them (none with the embedded broker). */
export function brokerNeeds(
  config: Config,
  sharedGroup: string | undefined,
  sessionExpiryS: number,
): BrokerNeeds {
  return {
    maxFrameBytes: config.maxFrameBytes,
    upstreamQos: config.mqtt.upstreamQos,
    cluster: config.cluster !== undefined,
    // A node that does not subscribe downstream (OCPP_GW_DOWNSTREAM_SUBSCRIBE) needs no shared subscription.
    sharedGroup: config.downstreamSubscribe ? sharedGroup : undefined,
    sessionExpiryS,
  };
}

/** One advertised limit below the gateway's need, with the broker settings that raise it. */
export interface LimitShortfall {
  /** The MQTT 5 CONNACK property (§3.2.2.3). */
  readonly setting: string;
  readonly advertised: number | boolean;
  readonly needed: number | boolean;
  readonly brokerSettings: string;
  readonly effect: string;
}

/**
 * Below this Receive Maximum (§3.2.2.3.3) upstream publishes queue for a send slot at modest
 * rates: at most this many are in flight, one round trip each. mosquitto advertises 20 by
 * default (`max_inflight_messages`), HiveMQ 10.
 */
export const MIN_RECEIVE_MAXIMUM = 20;

/** Topic, envelope fields and user properties around a frame's payload in its PUBLISH. */
export const PUBLISH_OVERHEAD_BYTES = 1024;

/**
 * The limits a broker advertises in its MQTT 5 CONNACK that are below what the gateway needs.
 * Absent properties mean no limit (§3.2.2.3); an MQTT 3.1.1 broker advertises nothing. Limits a
 * broker does not advertise (per-client queue length, above all) are in the README.
 */
export function brokerShortfalls(props: ConnackProperties | undefined, needs: BrokerNeeds): LimitShortfall[] {
  const out: LimitShortfall[] = [];
  if (props === undefined) return out;
  if (props.receiveMaximum !== undefined && props.receiveMaximum < MIN_RECEIVE_MAXIMUM) {
    out.push({
      setting: 'Receive Maximum',
      advertised: props.receiveMaximum,
      needed: MIN_RECEIVE_MAXIMUM,
      brokerSettings:
        'mosquitto max_inflight_messages; EMQX mqtt.max_inflight; HiveMQ server-receive-maximum',
      effect: 'upstream publishes wait for a send slot; throughput is capped per node',
    });
  }
  const packetNeed = needs.maxFrameBytes + PUBLISH_OVERHEAD_BYTES;
  if (props.maximumPacketSize !== undefined && props.maximumPacketSize < packetNeed) {
    out.push({
      setting: 'Maximum Packet Size',
      advertised: props.maximumPacketSize,
      needed: packetNeed,
      brokerSettings: 'mosquitto max_packet_size; EMQX mqtt.max_packet_size; HiveMQ max-packet-size',
      effect: 'larger charge-point messages are refused (CALLERROR InternalError) instead of published',
    });
  }
  if (props.maximumQoS !== undefined && props.maximumQoS < needs.upstreamQos) {
    out.push({
      setting: 'Maximum QoS',
      advertised: props.maximumQoS,
      needed: needs.upstreamQos,
      brokerSettings: 'mosquitto max_qos; EMQX mqtt.max_qos_allowed; HiveMQ max-qos',
      effect: 'upstream publishes are sent at the lower QoS (OCPP_GW_UPSTREAM_QOS)',
    });
  }
  if (needs.cluster && needs.sharedGroup !== undefined && props.sharedSubscriptionAvailable === false) {
    out.push({
      setting: 'Shared Subscription Available',
      advertised: false,
      needed: true,
      brokerSettings: 'EMQX mqtt.shared_subscription; HiveMQ shared-subscriptions',
      effect: 'the downstream subscription is refused: no command reaches this cluster node',
    });
  }
  if (props.sessionExpiryInterval !== undefined && props.sessionExpiryInterval < needs.sessionExpiryS) {
    out.push({
      setting: 'Session Expiry Interval',
      advertised: props.sessionExpiryInterval,
      needed: needs.sessionExpiryS,
      brokerSettings: 'EMQX mqtt.session_expiry_interval; HiveMQ session-expiry max-interval',
      effect: 'commands held for a dead node are dropped sooner than OCPP_GW_MQTT_SESSION_EXPIRY_S',
    });
  }
  return out;
}

/** One warn line per shortfall, at start (README "Broker settings"). */
export function warnBrokerShortfalls(
  props: ConnackProperties | undefined,
  needs: BrokerNeeds,
  log: Logger,
): void {
  for (const shortfall of brokerShortfalls(props, needs)) {
    log.warn(shortfall, 'broker limit below what the gateway needs');
  }
}
