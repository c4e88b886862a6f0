import type { Reader } from './env-reader.js';
import type { Config, MqttProtocolVersion } from './types.js';

/** The MQTT side: broker URL and credentials, session, QoS, backlog, the embedded broker. */
export function parseMqtt(r: Reader, nodeId: string): Config['mqtt'] {
  const mqtt: Config['mqtt'] = {
    url: r.url('MQTT_URL', ['mqtt', 'mqtts', 'tcp', 'tls', 'ws', 'wss']),
    username: r.raw('MQTT_USERNAME'),
    password: r.raw('MQTT_PASSWORD'),
    clientId: r.string('MQTT_CLIENT_ID', `ocpp-gw-${nodeId}`),
    protocolVersion: r.int('MQTT_PROTOCOL_VERSION', 5, 4, 5) as MqttProtocolVersion,
    sharedGroup: r.bool('MQTT_SHARED_SUBSCRIPTION', true)
      ? r.string('MQTT_SHARED_GROUP', 'ocpp-gateway')
      : undefined,
    upstreamQos: r.int('UPSTREAM_QOS', 2, 0, 2) as 0 | 1 | 2,
    maxBacklog: r.int('MQTT_MAX_BACKLOG', 100_000, 0, 10_000_000),
    sessionExpiryS: r.int('MQTT_SESSION_EXPIRY_S', 300, 0, 4_294_967_295),
    // MQTT 5 §3.1.2.10: a broker that stopped answering (a silent cut) is noticed within 2 x this.
    keepaliveS: r.int('MQTT_KEEPALIVE_S', 15, 2, 65_535),
    embeddedHost: r.string('EMBEDDED_MQTT_HOST', '0.0.0.0'),
    embeddedPort: r.int('EMBEDDED_MQTT_PORT', 1883, 0, 65535),
  };
  if (mqtt.sharedGroup !== undefined && /[/+#]/.test(mqtt.sharedGroup)) {
    r.fail('MQTT_SHARED_GROUP', 'must not contain / + #');
  }
  return mqtt;
}
