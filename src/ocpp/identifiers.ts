/**
 * Rules for the strings a peer controls that the gateway may put into an MQTT topic: the Action
 * (`${action}`) and the UniqueId (`${id}`) of the topic templates. Checked when a frame or a
 * downstream message is parsed, so they hold whatever templates are configured.
 */

/** Longest Action accepted; the longest OCPP action name (PublishFirmwareStatusNotification) has 33. */
export const MAX_ACTION_LENGTH = 64;

// Every action of OCPP 1.6, 2.0.1 and 2.1 is letters and digits (`Get15118EVCertificate`).
const ACTION_NAME = new RegExp(`^[A-Za-z0-9]{1,${MAX_ACTION_LENGTH}}$`);

export function isActionName(value: string): boolean {
  return ACTION_NAME.test(value);
}

/**
 * What must not reach a topic level: `/` would add a level and `+ #` are wildcards, which a
 * topic name must not hold ([MQTT-4.7.1-1]); NUL and unpaired surrogates are forbidden
 * ([MQTT-1.5.3-1], [MQTT-1.5.3-2]) and C0/C1 controls and Unicode non-characters (U+FDD0-U+FDEF,
 * U+xFFFE, U+xFFFF) discouraged, so a broker may take any of them for a malformed packet and
 * disconnect (MQTT 3.1.1 §1.5.3, MQTT 5 §1.5.4). With the `u` flag `\p{Cs}` matches only a
 * surrogate without its pair.
 */
const TOPIC_UNSAFE = /[/+#\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

export function isTopicSafe(value: string): boolean {
  return !TOPIC_UNSAFE.test(value);
}
