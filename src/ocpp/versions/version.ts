import type { OcppProblem } from '../problem.js';

/**
 * Where a version's JSON schemas come from. `files`: one JSON file per message inside an installed
 * package, `<Action><requestSuffix>.json` and `<Action>Response.json`. `module`: an ES module
 * exporting each schema as `<Action>Request` / `<Action>Response`; an export with neither suffix
 * is a message sent only with SEND (OCPP-J 2.1), which has no response.
 */
export type SchemaSource =
  | {
      readonly kind: 'files';
      readonly packageName: string;
      readonly dir: string;
      readonly requestSuffix: '' | 'Request';
    }
  | { readonly kind: 'module'; readonly packageName: string; readonly specifier: string };

/**
 * Everything the gateway needs to know about one OCPP version, in one descriptor. Adding a version
 * is writing its descriptor (e.g. `v201.ts`), pointing at its schema directory and registering it
 * in `index.ts`; nothing below the seam names a version.
 */
export interface OcppVersion {
  /** WebSocket subprotocol (OCPP-J 1.6 §3.1.2, OCPP 2.0.1 Part 4 §3.1). */
  readonly subprotocol: string;
  /** Value of EMQX's `proto_ver` and of our `ocpp-version` user property. */
  readonly protoVer: string;
  /** Name used in descriptions, e.g. `OCPP 1.6`. */
  readonly name: string;
  /** Message type numbers this version defines: 1.6 and 2.0.1 know 2, 3, 4; 2.1 adds 5 and 6. */
  readonly messageTypes: readonly number[];
  /** Every action of the version: metric labels stay bounded by these. */
  readonly actions: ReadonlySet<string>;
  /** Actions the version cannot work without: loading its schemas fails at start if one is missing. */
  readonly requiredActions: readonly string[];
  /** Where the version's JSON schemas are read from. */
  readonly schemas: SchemaSource;
  /** Longest UniqueId accepted from a charge point. */
  readonly maxUniqueIdLength: number;
  /**
   * The reply whose `interval` sets the heartbeat interval when its status is Accepted: in 1.6 any
   * such reply (EMQX's structural rule), in 2.x only BootNotification's.
   */
  readonly heartbeatFromBootOnly: boolean;
  /** The CALLERROR code this version uses for each version-neutral problem. */
  readonly errorCodes: Readonly<Record<OcppProblem, string>>;
}
