import { Packr } from 'msgpackr';
import { EnvelopeEncodeError } from '../errors.js';
import { decodeDeliverPayload, type WireDownstream } from './route-deliver.js';

export { fromWire, toWire, type WireDownstream } from './route-deliver.js';

/**
 * What nodes say to each other on the route bus (docs/architecture.md §5.4), msgpackr-encoded. `v` is the
 * envelope version: a node drops (and counts) envelopes of a version it does not know, so a
 * rolling upgrade that changes the shape must bump it and keep reading the old one for a release.
 */
export const ENVELOPE_VERSION = 1;

export type RouteEnvelope =
  /** Deliver `msg` to the session `epoch` of `cid`; answer with a `reply` carrying `ref`. */
  | {
      readonly v: 1;
      readonly k: 'deliver';
      readonly from: string;
      readonly ref: number;
      readonly cid: string;
      readonly epoch: string;
      readonly dup: boolean;
      readonly msg: WireDownstream;
      /**
       * The sender's clock when it sent this (ms since the epoch; optional: older senders send
       * none). The owner does not write a command older than the Redis command deadline
       * (docs/architecture.md §5.13); node clocks must agree well within that deadline.
       */
      readonly at?: number;
    }
  /**
   * The outcome of a `deliver`: `done` (its outcome is published, by the owner), or `stale`
   * (no session with that epoch here: the routing node looks the owner up again).
   */
  | {
      readonly v: 1;
      readonly k: 'reply';
      readonly from: string;
      readonly ref: number;
      readonly outcome: 'done' | 'stale';
    }
  /** Close the session `epoch` of `cid`: the charge point connected to node `from` since. */
  | {
      readonly v: 1;
      readonly k: 'takeover';
      readonly from: string;
      readonly cid: string;
      readonly epoch: string;
    }
  /** Close the session of `cid` (admin API on another node). */
  | { readonly v: 1; readonly k: 'kick'; readonly from: string; readonly cid: string }
  /**
   * Node `from` is shutting down cleanly: nothing it was sent will be answered any more.
   * `quiesced`: it had no session left and every outcome it owed was published before this, so a
   * command still pending for it never reached a charge point and may be routed again (optional
   * field: a node of the previous release sends none and is treated as lost).
   */
  | { readonly v: 1; readonly k: 'bye'; readonly from: string; readonly quiesced?: boolean };

const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * msgpackr recurses and throws on very deep values. A downstream message is within the JSON
 * limits (ocpp/json-limits.ts) before it gets here; should one not be, the caller learns it from
 * this error's type and answers the command `malformed` instead of `unroutable`.
 */
export function encodeEnvelope(envelope: RouteEnvelope): Buffer {
  try {
    return packr.pack(envelope);
  } catch (error) {
    throw new EnvelopeEncodeError(envelope.k, error);
  }
}

export type DecodeResult =
  | { readonly ok: true; readonly envelope: RouteEnvelope }
  | { readonly ok: false; readonly reason: 'undecodable' | 'version' | 'shape' };

const isString = (value: unknown): value is string => typeof value === 'string';

/** Checks what the handlers rely on; anything else is rejected, never half-handled. */
export function decodeEnvelope(payload: Buffer): DecodeResult {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch {
    return { ok: false, reason: 'undecodable' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'shape' };
  const e = value as Record<string, unknown>;
  if (e.v !== ENVELOPE_VERSION) return { ok: false, reason: 'version' };
  if (!isString(e.from)) return { ok: false, reason: 'shape' };
  let valid: boolean;
  switch (e.k) {
    case 'deliver': {
      const msg = decodeDeliverPayload(e.msg);
      valid =
        typeof e.ref === 'number' &&
        isString(e.cid) &&
        isString(e.epoch) &&
        typeof e.dup === 'boolean' &&
        (e.at === undefined || typeof e.at === 'number') &&
        msg !== undefined;
      if (valid) e.msg = msg;
      break;
    }
    case 'reply':
      valid = typeof e.ref === 'number' && (e.outcome === 'done' || e.outcome === 'stale');
      break;
    case 'takeover':
      valid = isString(e.cid) && isString(e.epoch);
      break;
    case 'kick':
      valid = isString(e.cid);
      break;
    case 'bye':
      valid = e.quiesced === undefined || typeof e.quiesced === 'boolean';
      break;
    default:
      valid = false;
  }
  return valid ? { ok: true, envelope: value as RouteEnvelope } : { ok: false, reason: 'shape' };
}
