import type {
  CallErrorFrame,
  CallFrame,
  CallResultErrorFrame,
  CallResultFrame,
  Frame,
  JsonObject,
  SendFrame,
} from '../ocpp/frame.js';
import { MAX_UNIQUE_ID_LENGTH } from '../ocpp/frame.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import type { DownstreamMessage } from '../ocpp/message.js';
import { isTopicSafe } from '../ocpp/identifiers.js';
import { jsonProblem } from '../ocpp/json-limits.js';

/**
 * The EMQX MQTT payloads (docs/architecture.md §2.5): JSON objects with PascalCase keys. Upstream we
 * build them from frames; downstream we parse them into a typed command. Extra keys are ignored.
 */

/** Why a downstream message was refused: the `reason` label of the malformed-message counter. */
export const DOWNSTREAM_PROBLEMS = [
  'bad_topic',
  'not_json',
  'not_object',
  'bad_unique_id',
  'bad_message_type',
  'bad_action',
  'bad_payload',
  'bad_error_code',
  'bad_error_description',
  'bad_error_details',
  'too_deep',
  'number_out_of_range',
] as const;

export type DownstreamProblem = (typeof DOWNSTREAM_PROBLEMS)[number];

export type DownstreamParse =
  | { readonly ok: true; readonly message: DownstreamMessage }
  | {
      readonly ok: false;
      readonly problem: DownstreamProblem;
      /**
       * Present when the message had a usable UniqueId, so the failure can be answered: one
       * that is safe in a topic, since the error reply topic may hold `${id}`.
       */
      readonly uniqueId: string | undefined;
      /** As sent when a number or a short string (it is reported), else undefined. */
      readonly messageTypeId: number | string | undefined;
      readonly action: string | undefined;
    };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseDownstream(payload: Buffer | string): DownstreamParse {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return {
      ok: false,
      problem: 'not_json',
      uniqueId: undefined,
      messageTypeId: undefined,
      action: undefined,
    };
  }
  if (!isObject(value)) {
    return {
      ok: false,
      problem: 'not_object',
      uniqueId: undefined,
      messageTypeId: undefined,
      action: undefined,
    };
  }
  const type = value.MessageTypeId;
  const rawId = value.UniqueId;
  const uniqueId =
    typeof rawId === 'string' &&
    rawId.length > 0 &&
    rawId.length <= MAX_UNIQUE_ID_LENGTH &&
    isTopicSafe(rawId)
      ? rawId
      : undefined;
  const action = typeof value.Action === 'string' && value.Action !== '' ? value.Action : undefined;
  const reported =
    typeof type === 'number' || (typeof type === 'string' && type.length <= 16) ? type : undefined;
  const bad = (problem: DownstreamProblem): DownstreamParse => ({
    ok: false,
    problem,
    uniqueId,
    messageTypeId: reported,
    action,
  });
  if (uniqueId === undefined) return bad('bad_unique_id');
  // EMQX matches the integer exactly: "2" or 2.5 are not a message type (docs/architecture.md §2.5).
  switch (type) {
    case 2: {
      if (action === undefined) return bad('bad_action');
      const payload = value.Payload;
      if (!isObject(payload)) return bad('bad_payload');
      const problem = jsonProblem(payload);
      if (problem !== undefined) return bad(problem);
      return { ok: true, message: { type: 2, uniqueId, action, payload } };
    }
    case 3: {
      const payload = value.Payload;
      if (!isObject(payload)) return bad('bad_payload');
      const problem = jsonProblem(payload);
      if (problem !== undefined) return bad(problem);
      return { ok: true, message: { type: 3, uniqueId, payload } };
    }
    case 6: {
      // OCPP-J 2.1 SEND: a CALL's fields (docs/architecture.md §2.5).
      if (action === undefined) return bad('bad_action');
      const payload = value.Payload;
      if (!isObject(payload)) return bad('bad_payload');
      const problem = jsonProblem(payload);
      if (problem !== undefined) return bad(problem);
      return { ok: true, message: { type: 6, uniqueId, action, payload } };
    }
    case 4:
    case 5: {
      const { ErrorCode: code, ErrorDescription: description, ErrorDetails: details = {} } = value;
      if (typeof code !== 'string' || code === '') return bad('bad_error_code');
      if (typeof description !== 'string') return bad('bad_error_description');
      if (!isObject(details)) return bad('bad_error_details');
      const problem = jsonProblem(details);
      if (problem !== undefined) return bad(problem);
      return {
        ok: true,
        message: { type, uniqueId, errorCode: code, errorDescription: description, errorDetails: details },
      };
    }
    default:
      return bad('bad_message_type');
  }
}

export function toFrame(message: DownstreamMessage): Frame {
  switch (message.type) {
    case 6:
      return [6, message.uniqueId, message.action, message.payload];
    case 5:
      return [5, message.uniqueId, message.errorCode, message.errorDescription, message.errorDetails];
    case 2:
      return [2, message.uniqueId, message.action, message.payload];
    case 3:
      return [3, message.uniqueId, message.payload];
    case 4:
      // EMQX always sends {} here; we forward the backend's details (docs/architecture.md §7.9).
      return [4, message.uniqueId, message.errorCode, message.errorDescription, message.errorDetails];
  }
}

/**
 * The payload builders return undefined for a value JSON.stringify cannot encode (it throws on
 * very deep values; frame.ts refuses those, this keeps a slip from costing the outcome).
 */
function encode(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * `payloadText`: the CP's own payload JSON (frame.ts `rawPayload`), spliced in unchanged. A 2.1
 * SEND has a CALL's shape and keeps its MessageTypeId 6 (docs/architecture.md §2.5).
 */
export function callPayload(
  frame: CallFrame | SendFrame,
  payloadText: string | undefined,
): string | undefined {
  if (payloadText === undefined) {
    return encode({ MessageTypeId: frame[0], UniqueId: frame[1], Action: frame[2], Payload: frame[3] });
  }
  return `{"MessageTypeId":${frame[0]},"UniqueId":${JSON.stringify(frame[1])},"Action":${JSON.stringify(frame[2])},"Payload":${payloadText}}`;
}

/** `Action` is added when the gateway knows which downstream CALL this answers (docs/architecture.md §2.5). */
export function callResultPayload(
  frame: CallResultFrame,
  action: string | undefined,
  payloadText: string | undefined,
): string | undefined {
  if (payloadText === undefined) {
    return encode(
      action === undefined
        ? { MessageTypeId: 3, UniqueId: frame[1], Payload: frame[2] }
        : { MessageTypeId: 3, UniqueId: frame[1], Payload: frame[2], Action: action },
    );
  }
  const tail = action === undefined ? '}' : `,"Action":${JSON.stringify(action)}}`;
  return `{"MessageTypeId":3,"UniqueId":${JSON.stringify(frame[1])},"Payload":${payloadText}${tail}`;
}

/**
 * EMQX drops `ErrorDetails` upstream; we keep it (docs/architecture.md §7.9). A 2.1
 * CALLRESULTERROR has a CALLERROR's shape and keeps its MessageTypeId 5.
 */
export function callErrorPayload(
  frame: CallErrorFrame | CallResultErrorFrame,
  action: string | undefined,
): string | undefined {
  const body: JsonObject = {
    MessageTypeId: frame[0],
    UniqueId: frame[1],
    ErrorCode: frame[2],
    ErrorDescription: frame[3],
    ErrorDetails: frame[4],
  };
  if (action !== undefined) body.Action = action;
  return encode(body);
}

/**
 * OCPP_GW_PAYLOAD_VERSION_KEY: the charge point's version as one more key at the end of an EMQX
 * payload (every builder here returns a JSON object's text, so it ends with `}`).
 */
export function withVersionKey(payload: string, key: string | undefined, protoVer: string): string {
  if (key === undefined) return payload;
  return `${payload.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(protoVer)}}`;
}

/** A CALLERROR the gateway makes itself when a downstream CALL cannot end normally. */
export function gatewayErrorPayload(
  uniqueId: string,
  action: string | undefined,
  reason: GatewayReason,
  errorCode: string,
  description: string,
): string {
  const body: JsonObject = {
    MessageTypeId: 4,
    UniqueId: uniqueId,
    ErrorCode: errorCode,
    ErrorDescription: description,
    ErrorDetails: { origin: 'gateway', reason },
  };
  if (action !== undefined) body.Action = action;
  // Strings and a flat object: JSON.stringify cannot fail here.
  return JSON.stringify(body);
}
