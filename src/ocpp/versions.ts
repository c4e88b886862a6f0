/**
 * OCPP versions the gateway speaks, keyed by WebSocket subprotocol (OCPP-J 1.6 §3.1.2, OCPP 2.0.1 Part 4 §3.1).
 * Only versions listed here can be negotiated; config rejects any other subprotocol by name.
 */

export type Subprotocol = 'ocpp1.6';

export interface OcppVersionInfo {
  readonly subprotocol: Subprotocol;
  /** Value of EMQX's `proto_ver` and of our `ocpp-version` user property. */
  readonly protoVer: string;
  /** Message type numbers this version defines: 1.6 and 2.0.1 know 2, 3, 4 only. */
  readonly messageTypes: readonly number[];
}

export const VERSIONS: Readonly<Record<Subprotocol, OcppVersionInfo>> = Object.freeze({
  'ocpp1.6': Object.freeze({
    subprotocol: 'ocpp1.6',
    protoVer: '1.6',
    messageTypes: Object.freeze([2, 3, 4]),
  }),
});

export const SUPPORTED_SUBPROTOCOLS: readonly Subprotocol[] = Object.freeze(
  Object.keys(VERSIONS) as Subprotocol[],
);

export function isSupportedSubprotocol(value: string): value is Subprotocol {
  return Object.hasOwn(VERSIONS, value);
}
