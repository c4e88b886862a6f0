/**
 * The few OCPP-J 1.6 frames and EMQX-format MQTT payloads the benches send and recognise.
 * Deliberately not the gateway's own `src/ocpp` code: the bench must not share a bug with the
 * thing it measures.
 */

export const SUBPROTOCOL = 'ocpp1.6';
export const UPSTREAM_TOPIC_PREFIX = 'ocpp/cp/';
export const DOWNSTREAM_TOPIC_PREFIX = 'ocpp/cs/';

/** `[2, id, "BootNotification", {...}]` (OCPP-J 1.6 §4.2.1). */
export function bootNotificationFrame(uniqueId: string): string {
  return JSON.stringify([
    2,
    uniqueId,
    'BootNotification',
    { chargePointVendor: 'bench', chargePointModel: 'bench-cp' },
  ]);
}

/** True when `text` is the CALLRESULT `[3, uniqueId, {"status":"Accepted",...}]`. */
export function isAcceptedResult(text: string, uniqueId: string): boolean {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return false;
  }
  if (!Array.isArray(frame) || frame[0] !== 3 || frame[1] !== uniqueId) return false;
  const payload: unknown = frame[2];
  return (
    typeof payload === 'object' && payload !== null && (payload as { status?: unknown }).status === 'Accepted'
  );
}

/**
 * The MeterValues payload, rebuilt by the caller about once a second so each frame costs the load
 * generator one string concatenation.
 */
export function meterValuesPayload(now: Date): string {
  return JSON.stringify({
    connectorId: 1,
    meterValue: [{ timestamp: now.toISOString(), sampledValue: [{ value: '123' }] }],
  });
}

/** `[2, id, "MeterValues", payload]` from a pre-serialised payload. */
export function meterValuesFrame(uniqueId: string, payloadJson: string): string {
  return `[2,"${uniqueId}","MeterValues",${payloadJson}]`;
}

/** What the backend publishes on `ocpp/cs/{cid}` to accept a BootNotification (docs/architecture.md §2.5). */
export function acceptedBootReply(uniqueId: string, now: Date): string {
  return JSON.stringify({
    MessageTypeId: 3,
    UniqueId: uniqueId,
    Payload: { status: 'Accepted', currentTime: now.toISOString(), interval: 300 },
  });
}

/** The fields of an upstream EMQX-format message that the benches look at. */
export interface UpstreamCall {
  readonly UniqueId: string;
  readonly Action: string;
}

const UNIQUE_ID_KEY = '"UniqueId":"';
const METER_VALUES_ACTION = '"Action":"MeterValues"';

/**
 * Fast path for the throughput subscriber: the UniqueId of a compact-JSON MeterValues CALL found
 * by string search, so the load generator spends its CPU on load instead of parsing; anything
 * else (other spacing, escapes, other actions) goes through {@link parseUpstreamCall}.
 */
export function meterValuesUniqueId(payload: Buffer): string | undefined {
  const text = payload.toString('utf8');
  const start = text.indexOf(UNIQUE_ID_KEY);
  const end = start < 0 ? -1 : text.indexOf('"', start + UNIQUE_ID_KEY.length);
  if (end > 0 && text.includes(METER_VALUES_ACTION) && text.includes('"MessageTypeId":2')) {
    const id = text.slice(start + UNIQUE_ID_KEY.length, end);
    if (!id.includes('\\')) return id;
  }
  const call = parseUpstreamCall(payload);
  return call?.Action === 'MeterValues' ? call.UniqueId : undefined;
}

/** Parses an `ocpp/cp/{cid}` payload; undefined for anything that is not a CALL. */
export function parseUpstreamCall(payload: Buffer): UpstreamCall | undefined {
  let message: unknown;
  try {
    message = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { MessageTypeId, UniqueId, Action } = message as Record<string, unknown>;
  if (MessageTypeId !== 2 || typeof UniqueId !== 'string' || typeof Action !== 'string') return undefined;
  return { UniqueId, Action };
}
