import { isActionName, isTopicSafe, MAX_ACTION_LENGTH } from './identifiers.js';
import { jsonProblem, MAX_JSON_DEPTH, type JsonProblem } from './json-limits.js';
import { OcppError } from './ocpp-error.js';

/**
 * OCPP-J frames (OCPP-J 1.6 §4.1): a JSON array whose first element is the message type.
 * A discriminated union on element 0; every consumer switches on it exhaustively.
 */
export const MessageType = { Call: 2, CallResult: 3, CallError: 4, CallResultError: 5, Send: 6 } as const;

export type JsonObject = Record<string, unknown>;
export type CallFrame = [2, string, string, JsonObject];
export type CallResultFrame = [3, string, JsonObject];
export type CallErrorFrame = [4, string, string, string, JsonObject];
/** OCPP-J 2.1 Part 4 §4.2.4 CALLRESULTERROR: a CALLERROR's shape under MessageTypeId 5. */
export type CallResultErrorFrame = [5, string, string, string, JsonObject];
/** OCPP-J 2.1 Part 4 §4.2.5 SEND: a CALL's shape under MessageTypeId 6, never answered. */
export type SendFrame = [6, string, string, JsonObject];
export type Frame = CallFrame | CallResultFrame | CallErrorFrame | CallResultErrorFrame | SendFrame;

/**
 * Longest UniqueId we accept. OCPP-J 1.6 §4.1.4 says 36 characters; some firmware sends longer
 * ids, so we allow a margin and still bound the memory a hostile peer can make us hold.
 */
export const MAX_UNIQUE_ID_LENGTH = 128;

/** The messageId OCPP 2.0.1 Part 4 §4.2.3 prescribes when the incoming id cannot be read. */
export const UNKNOWN_MESSAGE_ID = '-1';

export type ParseResult =
  | {
      readonly ok: true;
      readonly frame: Frame;
      /** The payload's JSON text exactly as the peer sent it (CALL and CALLRESULT), see {@link rawPayload}. */
      readonly payloadText?: string | undefined;
    }
  | {
      readonly ok: false;
      readonly error: OcppError;
      /** Id to answer with, or undefined when the frame was a reply (never answer a reply). */
      readonly replyId: string | undefined;
      /** Set when the malformed frame was a CALLRESULT/CALLERROR for this id. */
      readonly replyTo?: string;
    };

// Recovers the id from a frame that is not valid JSON, e.g. a truncated `[2,"abc","Heartbeat",{`.
const LEADING_ID = /^\s*\[\s*2\s*,\s*"([^"\\]{1,128})"/;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `shape`: not a string of 1..maxLength characters; `unsafe`: a string that must not reach a topic. */
function idProblem(value: unknown, maxLength: number): 'shape' | 'unsafe' | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return 'shape';
  return isTopicSafe(value) ? undefined : 'unsafe';
}

function idRule(problem: 'shape' | 'unsafe', maxLength: number): string {
  return problem === 'shape'
    ? `UniqueId must be a string of 1..${maxLength} characters`
    : 'UniqueId must not contain / + #, control characters or Unicode non-characters';
}

function jsonError(problem: JsonProblem, what: string): OcppError {
  const description =
    problem === 'too_deep'
      ? `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`
      : `${what} holds a number outside the range of a double`;
  return new OcppError('bad_payload', description);
}

// JSON.parse reads `2.0` and `2e0` as 2; the MessageTypeId must be the integer literal itself.
const INTEGER_TYPE = /^\s*\[\s*-?\d+\s*[,\]]/;

function fail(error: OcppError, replyId: string | undefined, replyTo?: string): ParseResult {
  return replyTo === undefined ? { ok: false, error, replyId } : { ok: false, error, replyId, replyTo };
}

/**
 * Parses one WebSocket text message into a frame. Never throws: malformed input becomes the
 * CALLERROR the spec names, with the id to answer under when one can be recovered.
 * `knownTypes` are the message types of the negotiated version (an unknown one is reported as
 * `unknown_type`, which the version spells); `maxIdLength` is its UniqueId limit.
 */
export function parseFrame(
  text: string,
  knownTypes: readonly number[],
  maxIdLength: number = MAX_UNIQUE_ID_LENGTH,
): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const id = LEADING_ID.exec(text)?.[1];
    return fail(new OcppError('malformed', 'message is not valid JSON'), id ?? UNKNOWN_MESSAGE_ID);
  }
  if (!Array.isArray(value) || value.length === 0) {
    return fail(new OcppError('malformed', 'message is not a non-empty JSON array'), UNKNOWN_MESSAGE_ID);
  }
  const type: unknown = value[0];
  const id: unknown = value[1];
  const idCheck = idProblem(id, maxIdLength);
  // An id unsafe in a topic is still the CALL's own: the charge point can match the answer.
  const answerId = idCheck === 'shape' ? UNKNOWN_MESSAGE_ID : (id as string);
  if (typeof type !== 'number' || !Number.isInteger(type) || !INTEGER_TYPE.test(text)) {
    return fail(new OcppError('bad_type', 'MessageTypeId is not an integer'), answerId);
  }
  if (!knownTypes.includes(type)) {
    // OCPP-J 1.6 §4.1.3 knows only 2, 3 and 4; we answer rather than ignore (docs/architecture.md §3.5).
    return fail(new OcppError('unknown_type', `MessageTypeId ${type} is not supported`), answerId);
  }
  if (idCheck !== undefined) {
    // Never published: `${id}` may be part of a topic. A reply with such an id is only counted.
    const isReply = type !== MessageType.Call;
    return fail(new OcppError('bad_id', idRule(idCheck, maxIdLength)), isReply ? undefined : answerId);
  }
  const uniqueId = id as string;
  switch (type) {
    case MessageType.Call:
      return withRaw(parseCall(value, uniqueId), text, CALL_HEAD);
    case MessageType.CallResult:
      return withRaw(parseCallResult(value, uniqueId), text, RESULT_HEAD);
    case MessageType.CallError:
      return parseCallError(value, uniqueId, 4);
    case MessageType.CallResultError:
      return parseCallError(value, uniqueId, 5);
    case MessageType.Send:
      // A SEND is never answered (OCPP-J 2.1 Part 4 §4.2.5), not even when malformed.
      return unanswered(withRaw(parseCall(value, uniqueId, 6), text, SEND_HEAD));
    default:
      return fail(new OcppError('unknown_type', `MessageTypeId ${type} is not supported`), uniqueId);
  }
}

function parseCall(value: unknown[], id: string, type: 2 | 6 = 2): ParseResult {
  const name = type === 2 ? 'CALL' : 'SEND';
  if (value.length < 4) return fail(new OcppError('too_few_elements', `${name} needs 4 elements`), id);
  if (value.length > 4) return fail(new OcppError('bad_shape', `${name} has more than 4 elements`), id);
  const action: unknown = value[2];
  const payload: unknown = value[3];
  if (typeof action !== 'string' || action.length === 0) {
    return fail(new OcppError('bad_shape', 'Action must be a non-empty string'), id);
  }
  if (!isActionName(action)) {
    // `${action}` may be part of a topic: `Heart/beat` would add a level, `Heart#` is a wildcard.
    const rule = `Action must be 1..${MAX_ACTION_LENGTH} letters and digits`;
    return fail(new OcppError('bad_shape', rule), id);
  }
  if (!isObject(payload)) return fail(new OcppError('bad_payload', 'Payload must be a JSON object'), id);
  const problem = jsonProblem(payload);
  if (problem !== undefined) return fail(jsonError(problem, 'Payload'), id);
  return { ok: true, frame: type === 2 ? [2, id, action, payload] : [6, id, action, payload] };
}

/** A malformed SEND is counted, never answered: the peer expects no reply to it. */
function unanswered(result: ParseResult): ParseResult {
  return result.ok ? result : { ok: false, error: result.error, replyId: undefined };
}

// Malformed replies are never answered with a CALLERROR (OCPP-J 1.6 §4.2.3: CALLERROR answers a CALL).
function parseCallResult(value: unknown[], id: string): ParseResult {
  const payload: unknown = value[2];
  if (value.length !== 3 || !isObject(payload)) {
    return fail(new OcppError('bad_shape', 'CALLRESULT must be [3, id, {payload}]'), undefined, id);
  }
  const problem = jsonProblem(payload);
  if (problem !== undefined) return fail(jsonError(problem, 'Payload'), undefined, id);
  return { ok: true, frame: [3, id, payload] };
}

function parseCallError(value: unknown[], id: string, type: 4 | 5): ParseResult {
  const [, , code, description, details] = value as [unknown, unknown, unknown, unknown, unknown];
  if (
    value.length !== 5 ||
    typeof code !== 'string' ||
    typeof description !== 'string' ||
    !isObject(details)
  ) {
    const name = type === 4 ? 'CALLERROR' : 'CALLRESULTERROR';
    return fail(
      new OcppError('bad_shape', `${name} must be [${type}, id, code, description, {details}]`),
      undefined,
      id,
    );
  }
  const problem = jsonProblem(details);
  if (problem !== undefined) return fail(jsonError(problem, 'ErrorDetails'), undefined, id);
  return { ok: true, frame: [type, id, code, description, details] };
}

// The elements before the payload, as JSON tokens: `[2,"id","Action",` and `[3,"id",`.
const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const CALL_HEAD = new RegExp(String.raw`^\s*\[\s*2\s*,\s*${JSON_STRING}\s*,\s*${JSON_STRING}\s*,`);
const SEND_HEAD = new RegExp(String.raw`^\s*\[\s*6\s*,\s*${JSON_STRING}\s*,\s*${JSON_STRING}\s*,`);
const RESULT_HEAD = new RegExp(String.raw`^\s*\[\s*3\s*,\s*${JSON_STRING}\s*,`);
const TAIL = /\]\s*$/;

/**
 * The payload's own JSON text, cut out of a message that JSON.parse has already accepted as a
 * well-formed CALL/CALLRESULT: everything between the head tokens and the closing bracket is the
 * payload value. Bridging it as-is skips a JSON.stringify per message and keeps the payload
 * byte-transparent (EMQX re-encodes it, docs/architecture.md §7.11). Undefined if the shape is unexpected.
 */
export function rawPayload(text: string, head: RegExp): string | undefined {
  const start = head.exec(text)?.[0].length;
  const end = TAIL.exec(text)?.index;
  if (start === undefined || end === undefined || end <= start) return undefined;
  return text.slice(start, end).trim();
}

function withRaw(result: ParseResult, text: string, head: RegExp): ParseResult {
  return result.ok ? { ok: true, frame: result.frame, payloadText: rawPayload(text, head) } : result;
}

export function serializeFrame(frame: Frame): string {
  return JSON.stringify(frame);
}

/** A frame the gateway writes to a charge point, or why it cannot be written. */
export type EncodedFrame =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly problem: 'unencodable' | 'too_large' };

/**
 * Encodes a frame for the socket without throwing (JSON.stringify throws on very deep values)
 * and holds it to the limit the gateway sets on what it reads, `maxBytes` of UTF-8.
 */
export function encodeFrame(frame: Frame, maxBytes: number): EncodedFrame {
  let text: string;
  try {
    text = JSON.stringify(frame);
  } catch {
    return { ok: false, problem: 'unencodable' };
  }
  // A UTF-16 unit is at most 3 bytes of UTF-8: most frames need no byte count at all.
  if (text.length * 3 <= maxBytes) return { ok: true, text };
  return Buffer.byteLength(text, 'utf8') <= maxBytes
    ? { ok: true, text }
    : { ok: false, problem: 'too_large' };
}
