import type { DownstreamMessage } from '../ocpp/message.js';

/**
 * The `msg` of a `deliver` envelope: the route bus's own type, not the bridge's in-memory one, so
 * renaming a field in memory cannot change what nodes send each other (docs/architecture.md §5.4).
 * Field names and order are those envelope `v: 1` has carried since it was introduced; changing
 * them means a new envelope version.
 */
export type WireDownstream =
  | { readonly type: 2 | 6; readonly uniqueId: string; readonly action: string; readonly payload: WireObject }
  | { readonly type: 3; readonly uniqueId: string; readonly payload: WireObject }
  | {
      readonly type: 4 | 5;
      readonly uniqueId: string;
      readonly errorCode: string;
      readonly errorDescription: string;
      readonly errorDetails: WireObject;
    };

export type WireObject = Record<string, unknown>;

/**
 * Message types the route bus carries: its own list, not any OCPP version's. 5 and 6 (OCPP-J 2.1)
 * have the fields of 4 and 2; a node that predates them refuses such a `deliver` as malformed.
 */
export const WIRE_MESSAGE_TYPES: readonly number[] = Object.freeze([2, 3, 4, 5, 6]);

function isObject(value: unknown): value is WireObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** A `deliver` envelope (docs/architecture.md §5.4), fields in the order v1 has always written them. */
export function deliverEnvelope(
  from: string,
  ref: number,
  cid: string,
  epoch: string,
  dup: boolean,
  message: DownstreamMessage,
) {
  return { v: 1, k: 'deliver', from, ref, cid, epoch, dup, msg: toWire(message), at: Date.now() } as const;
}

/** Field by field, in the order v1 writes them (same msgpack bytes as before the split). */
export function toWire(message: DownstreamMessage): WireDownstream {
  switch (message.type) {
    case 2:
    case 6:
      return {
        type: message.type,
        uniqueId: message.uniqueId,
        action: message.action,
        payload: message.payload,
      };
    case 3:
      return { type: 3, uniqueId: message.uniqueId, payload: message.payload };
    case 4:
    case 5:
      return {
        type: message.type,
        uniqueId: message.uniqueId,
        errorCode: message.errorCode,
        errorDescription: message.errorDescription,
        errorDetails: message.errorDetails,
      };
  }
}

export function fromWire(msg: WireDownstream): DownstreamMessage {
  switch (msg.type) {
    case 2:
    case 6:
      return { type: msg.type, uniqueId: msg.uniqueId, action: msg.action, payload: msg.payload };
    case 3:
      return { type: 3, uniqueId: msg.uniqueId, payload: msg.payload };
    case 4:
    case 5:
      return {
        type: msg.type,
        uniqueId: msg.uniqueId,
        errorCode: msg.errorCode,
        errorDescription: msg.errorDescription,
        errorDetails: msg.errorDetails,
      };
  }
}

/** Checks every field a `deliver` payload must have; undefined when one is missing or mistyped. */
export function decodeDeliverPayload(value: unknown): WireDownstream | undefined {
  if (!isObject(value) || !WIRE_MESSAGE_TYPES.includes(value.type as number)) return undefined;
  const { uniqueId } = value;
  if (!isString(uniqueId)) return undefined;
  switch (value.type) {
    case 2:
    case 6: {
      const { action, payload } = value;
      if (!isString(action) || !isObject(payload)) return undefined;
      return { type: value.type, uniqueId, action, payload };
    }
    case 3: {
      const { payload } = value;
      return isObject(payload) ? { type: 3, uniqueId, payload } : undefined;
    }
    default: {
      const { errorCode, errorDescription, errorDetails } = value;
      if (!isString(errorCode) || !isString(errorDescription) || !isObject(errorDetails)) return undefined;
      return { type: value.type === 5 ? 5 : 4, uniqueId, errorCode, errorDescription, errorDetails };
    }
  }
}
