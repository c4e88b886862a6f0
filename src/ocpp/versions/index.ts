/**
 * OCPP versions the gateway speaks, keyed by WebSocket subprotocol (OCPP-J 1.6 §3.1.2, OCPP 2.0.1
 * Part 4 §3.1). Only versions registered here can be negotiated; config rejects any other
 * subprotocol by name. A new version registers its descriptor in {@link REGISTRY}.
 */
import { V16 } from './v16.js';
import { V201 } from './v201.js';
import { V21 } from './v21.js';
import type { OcppVersion } from './version.js';

export type { OcppVersion } from './version.js';

const REGISTRY = { 'ocpp1.6': V16, 'ocpp2.0.1': V201, 'ocpp2.1': V21 } as const;

export type Subprotocol = keyof typeof REGISTRY;

export const VERSIONS: Readonly<Record<Subprotocol, OcppVersion>> = Object.freeze(REGISTRY);

/** Every subprotocol this build speaks, oldest first: the default of OCPP_GW_SUBPROTOCOLS. */
export const SUBPROTOCOLS: readonly Subprotocol[] = Object.freeze(Object.keys(REGISTRY) as Subprotocol[]);

export function isSupportedSubprotocol(value: string): value is Subprotocol {
  return Object.hasOwn(VERSIONS, value);
}

/**
 * The version whose spelling a gateway error reply uses when no session says which version the
 * charge point speaks (a command for a charge point that is not connected). `GenericError` is
 * spelled alike in every OCPP-J version.
 */
export const DEFAULT_VERSION: OcppVersion = V16;

/**
 * The CALLERROR code of a gateway error reply to a downstream CALL the gateway cannot parse (no
 * Action, a Payload that is not a JSON object or is nested or numbered beyond the limits), in the
 * words of the version the charge point speaks: "Payload for Action is syntactically incorrect",
 * `FormationViolation` in OCPP-J 1.6 §4.2.3, `FormatViolation` in OCPP-J 2.0.1 Part 4 §4.3.
 * Without a session to say which version (the charge point is not connected here) the default's.
 */
export function malformedCommandCode(version: OcppVersion | undefined): string {
  return (version ?? DEFAULT_VERSION).errorCodes.bad_payload;
}

/** The registered version whose `protoVer` this is (`1.6`, `2.0.1`, `2.1`), if any. */
export function versionByProtoVer(protoVer: string | undefined): OcppVersion | undefined {
  return protoVer === undefined ? undefined : Object.values(VERSIONS).find((v) => v.protoVer === protoVer);
}

/** Every action of every registered version: the bound on metric `action` labels. */
export const KNOWN_ACTIONS: ReadonlySet<string> = new Set(
  Object.values(VERSIONS).flatMap((version) => [...version.actions]),
);
