import { isIP } from 'node:net';
import type { Reader } from './env-reader.js';
import { pemFile, secret } from './secret-file.js';
import type { Config, MqttProtocolVersion } from './types.js';

/** The MQTT side: broker URL and credentials, session, QoS, backlog, the embedded broker. */
export function parseMqtt(r: Reader, nodeId: string): Config['mqtt'] {
  const mqtt: Config['mqtt'] = {
    url: r.url('MQTT_URL', ['mqtt', 'mqtts', 'tcp', 'tls', 'ws', 'wss']),
    username: secret(r, 'MQTT_USERNAME'),
    password: secret(r, 'MQTT_PASSWORD'),
    tls: parseBrokerTls(r),
    clientId: r.string('MQTT_CLIENT_ID', `ocpp-gw-${nodeId}`),
    protocolVersion: r.int('MQTT_PROTOCOL_VERSION', 5, 4, 5) as MqttProtocolVersion,
    sharedGroup: r.bool('MQTT_SHARED_SUBSCRIPTION', true)
      ? r.string('MQTT_SHARED_GROUP', 'ocpp-gateway')
      : undefined,
    upstreamQos: r.int('UPSTREAM_QOS', 2, 0, 2) as 0 | 1 | 2,
    maxBacklog: r.int('MQTT_MAX_BACKLOG', 100_000, 0, 10_000_000),
    sessionExpiryS: r.int('MQTT_SESSION_EXPIRY_S', 300, 0, 4_294_967_295),
    releaseOrphans: r.bool('MQTT_RELEASE_ORPHANS', true),
    // MQTT 5 §3.1.2.10: a broker that stopped answering (a silent cut) is noticed within 2 x this.
    keepaliveS: r.int('MQTT_KEEPALIVE_S', 15, 2, 65_535),
    embeddedHost: r.string('EMBEDDED_MQTT_HOST', '127.0.0.1'),
    embeddedPort: r.int('EMBEDDED_MQTT_PORT', 1883, 0, 65535),
    embeddedUsername: r.raw('EMBEDDED_MQTT_USERNAME'),
    embeddedPassword: r.raw('EMBEDDED_MQTT_PASSWORD'),
  };
  checkEmbeddedAccess(r, mqtt);
  checkBrokerTls(r, mqtt);
  if (mqtt.sharedGroup !== undefined && /[/+#]/.test(mqtt.sharedGroup)) {
    r.fail('MQTT_SHARED_GROUP', 'must not contain / + #');
  }
  return mqtt;
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The embedded broker carries every station's traffic and accepts commands to any station: it
 * may listen beyond loopback only behind credentials, and credentials come as a pair.
 */
function checkEmbeddedAccess(r: Reader, mqtt: Config['mqtt']): void {
  if (mqtt.url !== undefined) return;
  const user = mqtt.embeddedUsername;
  const password = mqtt.embeddedPassword;
  const open = !isLoopbackHost(mqtt.embeddedHost);
  const why = open
    ? `required when OCPP_GW_EMBEDDED_MQTT_HOST (${mqtt.embeddedHost}) is not a loopback address`
    : 'must be set together with the other embedded broker credential';
  if (user === undefined && (open || password !== undefined)) r.fail('EMBEDDED_MQTT_USERNAME', why);
  if (password === undefined && (open || user !== undefined)) r.fail('EMBEDDED_MQTT_PASSWORD', why);
  if (password !== undefined && password.length < 12) {
    r.fail('EMBEDDED_MQTT_PASSWORD', 'must be at least 12 characters');
  }
}

/** The broker's private CA and this node's client certificate for it (mqtts://, wss://). */
function parseBrokerTls(r: Reader): Config['mqtt']['tls'] {
  const ca = pemFile(r, 'MQTT_CA_FILE');
  const cert = pemFile(r, 'MQTT_CERT_FILE');
  const key = pemFile(r, 'MQTT_KEY_FILE');
  if ((cert === undefined) !== (key === undefined)) {
    r.fail(
      cert === undefined ? 'MQTT_CERT_FILE' : 'MQTT_KEY_FILE',
      'the client certificate and key come as a pair',
    );
  }
  if (ca === undefined && cert === undefined) return undefined;
  return { ca, cert, key };
}

function checkBrokerTls(r: Reader, mqtt: Config['mqtt']): void {
  if (mqtt.tls === undefined) return;
  const secure = mqtt.url !== undefined && /^(mqtts|tls|wss):/.test(mqtt.url);
  if (!secure) {
    const name = mqtt.tls.ca !== undefined ? 'MQTT_CA_FILE' : 'MQTT_CERT_FILE';
    r.fail(name, 'needs a TLS broker URL in OCPP_GW_MQTT_URL (mqtts://, tls:// or wss://)');
  }
}
