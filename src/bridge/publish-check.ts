import type { IConnackPacket, MqttClient } from 'mqtt';
import { PublishRefusedError } from '../errors.js';

/**
 * What a receiver may refuse in a topic name, closing the connection on it (MQTT 3.1.1 §1.5.3,
 * MQTT 5 §1.5.4 and §4.7): U+0000 and unpaired surrogates ([MQTT-1.5.4-1], [MQTT-1.5.4-2]),
 * the control characters U+0001-U+001F and U+007F-U+009F and the Unicode non-characters
 * (U+FDD0-U+FDEF, every code point ending in FFFE or FFFF), which "MAY [be treated] as a
 * Malformed Packet" (mosquitto does), and the wildcards, which a topic name must not contain
 * ([MQTT-3.3.2-2]).
 */
const REFUSED_CHARACTER = /[\p{Cc}\p{Noncharacter_Code_Point}\p{Cs}+#]/u;

/** A UTF-8 Encoded String is at most 65,535 bytes (MQTT 5 §1.5.4, [MQTT-4.7.3-3]). */
const MAX_TOPIC_BYTES = 65_535;

/** A UTF-16 code unit is at most 3 UTF-8 bytes: shorter strings need no byte count. */
const MAX_BYTES_PER_UNIT = 3;

function describe(codePoint: number): string {
  const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
  if (codePoint === 0x2b || codePoint === 0x23) return `wildcard ${String.fromCodePoint(codePoint)}`;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return `unpaired surrogate U+${hex}`;
  if (codePoint <= 0x9f) return `control character U+${hex}`;
  return `non-character U+${hex}`;
}

/** Why `topic` cannot be a PUBLISH topic name, or undefined when any broker must accept it. */
export function topicNameProblem(topic: string): string | undefined {
  // [MQTT-4.7.3-1]: at least one character (no topic alias is used here).
  if (topic.length === 0) return 'empty topic name';
  const bad = REFUSED_CHARACTER.exec(topic)?.[0].codePointAt(0);
  if (bad !== undefined) return `topic name contains ${describe(bad)}`;
  if (topic.length * MAX_BYTES_PER_UNIT > MAX_TOPIC_BYTES && Buffer.byteLength(topic) > MAX_TOPIC_BYTES)
    return `topic name longer than ${MAX_TOPIC_BYTES} bytes`;
  return undefined;
}

/** Bytes of a Variable Byte Integer (MQTT 5 §1.5.5). */
function varIntBytes(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  return value < 2_097_152 ? 3 : 4;
}

/** The size of a PUBLISH packet as MQTT 5 §3.3 lays it out (no topic alias, no other property). */
export function publishPacketBytes(
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  userProperties: Readonly<Record<string, string>> | undefined,
): number {
  let properties = 0;
  for (const [key, value] of Object.entries(userProperties ?? {})) {
    // Identifier 0x26, then two UTF-8 Encoded Strings (§3.3.2.3.7).
    properties += 1 + 2 + Buffer.byteLength(key) + 2 + Buffer.byteLength(value);
  }
  const propertyBlock = userProperties === undefined ? 0 : varIntBytes(properties) + properties;
  const remaining =
    2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + propertyBlock + Buffer.byteLength(payload);
  return 1 + varIntBytes(remaining) + remaining;
}

/**
 * The refusal for a publish a broker would drop the connection on, or undefined. `maxPacketBytes`
 * is the broker's MQTT 5 CONNACK Maximum Packet Size: a client must not send a larger packet
 * ([MQTT-3.2.2-15]), and the broker disconnects with 0x95 when it gets one.
 */
export function checkPublish(
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  userProperties: Readonly<Record<string, string>> | undefined,
  maxPacketBytes: number | undefined,
): PublishRefusedError | undefined {
  const problem = topicNameProblem(topic);
  if (problem !== undefined) return new PublishRefusedError('invalid_topic', topic, problem);
  if (maxPacketBytes === undefined) return undefined;
  const bytes = publishPacketBytes(topic, payload, qos, userProperties);
  if (bytes <= maxPacketBytes) return undefined;
  return new PublishRefusedError(
    'packet_too_large',
    topic,
    `PUBLISH of ${bytes} bytes exceeds the broker's Maximum Packet Size ${maxPacketBytes}`,
  );
}

/**
 * The limits of the broker's last CONNACK (MQTT 5 §3.2.2.3; none in 3.1.1), applied to each
 * publish before it leaves. mqtt.js emits 'connect' only once it has resent its store, so the
 * CONNACK packet itself is watched: the limits hold from the first packet of a connection.
 */
export class BrokerLimits {
  private maxPacketBytes: number | undefined;
  private maxQos: 0 | 1 | 2 = 2;

  constructor(client: MqttClient, first: IConnackPacket) {
    this.update(first);
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack') this.update(packet);
    });
  }

  private update(connack: IConnackPacket): void {
    this.maxPacketBytes = connack.properties?.maximumPacketSize;
    const maxQos = connack.properties?.maximumQoS;
    this.maxQos = maxQos === 0 || maxQos === 1 ? maxQos : 2;
  }

  /** [MQTT-3.2.2-11]: never above the broker's Maximum QoS (mosquitto disconnects with 0x9B). */
  qos(requested: 0 | 1 | 2): 0 | 1 | 2 {
    return requested > this.maxQos ? this.maxQos : requested;
  }

  refusal(
    topic: string,
    payload: string,
    qos: 0 | 1 | 2,
    userProperties: Readonly<Record<string, string>> | undefined,
  ): PublishRefusedError | undefined {
    return checkPublish(topic, payload, qos, userProperties, this.maxPacketBytes);
  }
}
