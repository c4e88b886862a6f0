/**
 * A narrow MQTT encoder for the packets on the hot path: PUBLISH whose only MQTT 5 property is
 * User Property, and PUBACK / PUBREC / PUBREL / PUBCOMP without properties. Each packet becomes
 * one Buffer sized up front.
 *
 * Why: mqtt-packet writes a PUBLISH as 6 to 12 small chunks, allocating a Buffer for every
 * property identifier and string length, corks the socket and schedules an uncork per packet;
 * measured at about 10 % of a node's CPU per upstream round trip (docs/architecture.md §4.7).
 *
 * Anything else (other packet types, other properties, a Buffer topic, non-string user property
 * values, an identifier that is not a number) returns `undefined` and the caller falls back to
 * mqtt-packet, which stays the reference: the output is byte-for-byte the library's
 * (test/unit/packet-encoder.test.ts compares them).
 */

/** The fields of an mqtt.js packet object this encoder reads. */
export interface PacketFields {
  readonly cmd?: unknown;
  readonly topic?: unknown;
  readonly payload?: unknown;
  readonly qos?: unknown;
  readonly dup?: unknown;
  readonly retain?: unknown;
  readonly messageId?: unknown;
  readonly properties?: unknown;
  readonly reasonCode?: unknown;
}

/** MQTT 5 §2.2.2.2: property identifier of User Property. */
const USER_PROPERTY = 0x26;
/** MQTT 5 §1.5.5: the largest Variable Byte Integer, bounding the Remaining Length. */
const MAX_REMAINING = 268_435_455;
/** MQTT 5 §1.5.4: a UTF-8 string is prefixed by a two-byte length. */
const MAX_STRING = 0xffff;
/** MQTT 5 §2.1.2: control packet types of the acknowledgements. */
const ACK_TYPES: Readonly<Record<string, number>> = { puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 };

export function encodePacket(packet: PacketFields, version: number): Buffer | undefined {
  if (packet.cmd === 'publish') return encodePublish(packet, version);
  if (typeof packet.cmd === 'string' && ACK_TYPES[packet.cmd] !== undefined)
    return encodeAck(packet, ACK_TYPES[packet.cmd] as number, version);
  return undefined;
}

/** A packet identifier (2 bytes) or a reason code (1 byte): an integer from 0 to `max`. */
function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function varIntSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

function writeVarInt(buffer: Buffer, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  do {
    let byte = rest % 0x80;
    rest = Math.floor(rest / 0x80);
    if (rest > 0) byte |= 0x80;
    buffer[at++] = byte;
  } while (rest > 0);
  return at;
}

/** User properties as flat [name, value, ...] strings, or undefined when the library must encode. */
function userPairs(properties: unknown): string[] | undefined {
  if (properties === undefined) return [];
  if (typeof properties !== 'object' || properties === null) return undefined;
  const pairs: string[] = [];
  for (const key in properties) {
    const value = (properties as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key !== 'userProperties' || typeof value !== 'object' || value === null || Array.isArray(value))
      return undefined;
    const before = pairs.length;
    for (const name of Object.getOwnPropertyNames(value)) {
      const entry = (value as Record<string, unknown>)[name];
      if (typeof entry === 'string') pairs.push(name, entry);
      else if (Array.isArray(entry) && entry.every((item) => typeof item === 'string'))
        for (const item of entry) pairs.push(name, item);
      else return undefined;
    }
    // mqtt-packet writes no packet at all for an empty User Property set: leave that to it.
    if (pairs.length === before) return undefined;
  }
  return pairs;
}

function encodePublish(packet: PacketFields, version: number): Buffer | undefined {
  const { topic, messageId } = packet;
  const payload = packet.payload ?? '';
  const qos = packet.qos ?? 0;
  if (typeof topic !== 'string' || (qos !== 0 && qos !== 1 && qos !== 2)) return undefined;
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return undefined;
  if (qos > 0 && !isUint(messageId, MAX_STRING)) return undefined;
  const pairs = version === 5 ? userPairs(packet.properties) : [];
  if (pairs === undefined) return undefined;
  const topicBytes = Buffer.byteLength(topic);
  const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (topicBytes > MAX_STRING) return undefined;
  const pairBytes = pairs.map((text) => Buffer.byteLength(text));
  if (pairBytes.some((size) => size > MAX_STRING)) return undefined;
  let propertiesLength = 0;
  for (const size of pairBytes) propertiesLength += 2 + size;
  propertiesLength += pairs.length / 2; // one identifier byte per pair
  const propertiesSize = version === 5 ? varIntSize(propertiesLength) + propertiesLength : 0;
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + propertiesSize + payloadBytes;
  if (remaining > MAX_REMAINING) return undefined;
  const out = Buffer.allocUnsafe(1 + varIntSize(remaining) + remaining);
  // MQTT 5 §3.3.1: type 3, DUP, QoS, RETAIN.
  out[0] = 0x30 | (packet.dup === true ? 0x08 : 0) | (qos << 1) | (packet.retain === true ? 1 : 0);
  let at = writeVarInt(out, 1, remaining);
  at = out.writeUInt16BE(topicBytes, at);
  at += out.write(topic, at, topicBytes);
  if (qos > 0) at = out.writeUInt16BE(messageId as number, at);
  if (version === 5) {
    at = writeVarInt(out, at, propertiesLength);
    for (let i = 0; i < pairs.length; i++) {
      if (i % 2 === 0) out[at++] = USER_PROPERTY;
      const size = pairBytes[i] as number;
      at = out.writeUInt16BE(size, at);
      at += out.write(pairs[i] as string, at, size);
    }
  }
  if (typeof payload === 'string') out.write(payload, at, payloadBytes);
  else payload.copy(out, at);
  return out;
}

function encodeAck(packet: PacketFields, type: number, version: number): Buffer | undefined {
  const { messageId, reasonCode } = packet;
  if (!isUint(messageId, MAX_STRING)) return undefined;
  if (packet.properties !== undefined || packet.dup === true) return undefined;
  if (reasonCode !== undefined && !isUint(reasonCode, 0xff)) return undefined;
  // MQTT 5 §3.6.1: PUBREL's fixed header flags are 0b0010.
  const header = (type << 4) | (type === 6 ? 0x02 : 0);
  // MQTT 5 §3.4.2.1: reason code 0 with no properties may be left out. mqtt.js leaves it out only
  // when the code is an explicit 0; otherwise it writes the code (0 when unset) and an empty
  // property length, which is what this does too.
  const long = version === 5 && reasonCode !== 0;
  const out = Buffer.allocUnsafe(long ? 6 : 4);
  out[0] = header;
  out[1] = long ? 4 : 2;
  out.writeUInt16BE(messageId, 2);
  if (long) {
    out[4] = reasonCode ?? 0;
    out[5] = 0;
  }
  return out;
}
