import assert from 'node:assert/strict';
import type { Observed } from './mqtt-observer.js';

/** A gateway error reply on the Reply (error) topic, as the backend reads it. */
export type ErrorReply = {
  MessageTypeId: number;
  UniqueId: string;
  ErrorCode: string;
  ErrorDetails: unknown;
};

/**
 * One station per registered version and the code its version gives a CALL the gateway cannot
 * parse: "Payload for Action is syntactically incorrect" is `FormationViolation` in OCPP-J 1.6
 * §4.2.3 and `FormatViolation` in OCPP-J 2.0.1 Part 4 §4.3 (2.1 keeps the 2.0.1 table). The
 * charge-point ids are `${prefix}-16`, `${prefix}-201`, `${prefix}-21`.
 */
export function malformedVersionStations(prefix: string) {
  return [
    { cid: `${prefix}-16`, protocol: 'ocpp1.6', protoVer: '1.6', code: 'FormationViolation' },
    { cid: `${prefix}-201`, protocol: 'ocpp2.0.1', protoVer: '2.0.1', code: 'FormatViolation' },
    { cid: `${prefix}-21`, protocol: 'ocpp2.1', protoVer: '2.1', code: 'FormatViolation' },
  ] as const;
}

/** A station the gateway holds no session or owner entry for: the default (1.6) spelling. */
export const UNKNOWN_VERSION = { protoVer: 'unknown', code: 'FormationViolation' } as const;

/**
 * The gateway's answer to a malformed downstream CALL for `cid`: a CALLERROR with the version's
 * code, marked as the gateway's, on the error topic `ocpp/err/${version}/${cid}` (the tests set
 * OCPP_GW_UPSTREAM_ERROR_TOPIC to `err/${version}/${cid}`).
 */
export function assertMalformedReply(
  reply: Observed,
  station: { readonly cid: string; readonly protoVer: string; readonly code: string },
  note?: string,
): void {
  const json = reply.json as ErrorReply;
  // The code before the topic: a reply spelled for the wrong version fails on the code first.
  assert.equal(json.MessageTypeId, 4, note);
  assert.equal(json.ErrorCode, station.code, note === undefined ? undefined : `${station.protoVer}, ${note}`);
  assert.deepEqual(json.ErrorDetails, { origin: 'gateway', reason: 'malformed' }, note);
  assert.equal(reply.topic, `ocpp/err/${station.protoVer}/${station.cid}`, note);
}
