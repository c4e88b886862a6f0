/**
 * Whether a text can stand as one level of an MQTT topic name on any conforming broker. A
 * charge-point id becomes part of every topic of its station (`ocpp/cp/{cid}`,
 * `ocpp/events/{cid}/connected`), so one id a broker refuses takes the node's MQTT link down:
 * the broker closes the connection on the malformed PUBLISH and the client sends the same
 * unacknowledged packet again after each reconnect.
 *
 * Refused, code point by code point:
 * - `/` `+` `#`: `/` adds a topic level (MQTT 5 §4.7.1.1), `+` and `#` are wildcards a topic
 *   name must not hold ([MQTT-3.3.2-2]); either would let the id reach other stations' topics.
 * - U+0000: [MQTT-1.5.4-2] (MQTT 5) / [MQTT-1.5.3-2] (3.1.1), always malformed.
 * - every `\p{Cc}`: C0 U+0001-U+001F, DEL and C1 U+007F-U+009F. MQTT 5 §1.5.4 and 3.1.1 §1.5.3
 *   let a receiver treat them as malformed (mosquitto 2 does and disconnects).
 * - every Unicode noncharacter: U+FDD0-U+FDEF and U+nFFFE/U+nFFFF in each of the 17 planes
 *   (Unicode §23.7), under the same clause.
 * - an unpaired surrogate: U+D800-U+DFFF must never be encoded ([MQTT-1.5.4-1]); a JavaScript
 *   string can still hold one, and its UTF-8 encoding would silently become U+FFFD.
 *
 * Pure and self-contained: the MQTT side keeps its own copy of the rules for topic names.
 */
// `\p{Cs}` matches only a lone surrogate under the `u` flag (a pair is one astral code point).
const TOPIC_UNSAFE = /[/+#\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

export function isTopicSafe(text: string): boolean {
  return !TOPIC_UNSAFE.test(text);
}
