import type { DownstreamMessage } from '../../ocpp/message.js';
import type { JsonObject } from '../../ocpp/frame.js';
import type { UpstreamPublisher } from '../../bridge/upstream-publisher.js';
import type { Ack } from '../../ocpp/message.js';
import type { GatewayReason } from '../../ocpp/error-codes.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { SchemaPolicy } from '../../ocpp/schema-policy.js';
import type { OcppVersion } from '../../ocpp/versions/index.js';
import type { CallQueue, PendingCall } from './call-queue.js';
import type { CloseReason } from './close-reason.js';
import type { Clock } from '../../io/clock.js';
import type { PublishShare } from '../publish-share.js';

export type SessionState = 'open' | 'booted' | 'closing' | 'closed';

export type { CloseReason } from './close-reason.js';

/**
 * The table a session enters when its socket opens and leaves when it closes (newest wins:
 * `add` returns the session it displaced).
 */
export interface SessionRegistration {
  add(session: SessionCore): SessionCore | undefined;
  remove(session: SessionCore): boolean;
}

/**
 * What every session of a node shares. Held once per node and referenced by each session, so a
 * session object carries only its own state (memory target: about 2 KiB per charge point).
 */
export interface SessionContext {
  readonly nodeId: string;
  readonly publisher: UpstreamPublisher;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly table: SessionRegistration;
  /** Which payloads are schema-checked; each session asks for its own version's validator. */
  readonly schemas: SchemaPolicy;
  readonly maxQueueLength: number;
  /** OCPP_GW_MAX_FRAME_BYTES: the limit on frames read holds for frames written too. */
  readonly maxFrameBytes: number;
  readonly callTimeoutMs: number;
  readonly heartbeatIntervalS: number;
  /** A new session's ownership epoch (cluster/registry.ts `epochSource`). */
  readonly nextEpoch: (protoVer: string) => string;
  /**
   * Routes a command again, as if it had just arrived from MQTT: how CALLs still waiting in a
   * replaced session reach the charge point's new session, on this node or another.
   */
  readonly reroute: (cid: string, message: DownstreamMessage, ack: Ack) => void;
  /**
   * Told of every downstream CALL the charge point answered with a CALLRESULT, so credential
   * changes the station accepted are followed (src/auth/credential-follower.ts).
   */
  readonly answered?:
    | ((cid: string, subprotocol: string, action: string, request: JsonObject, response: JsonObject) => void)
    | undefined;
  /** The call timeout's clock; the real one unless a test drives it. */
  readonly clock?: Clock | undefined;
}

/** The CP's latest CALL, so a downstream CALLRESULT can be checked against its action. */
export interface UpCall {
  readonly id: string;
  readonly action: string;
}

/**
 * A session as its inbound and outbound halves see it (edge/session/inbound.ts, outbound.ts):
 * its state, its socket write and its close, without the class that holds them.
 */
export interface SessionCore {
  readonly cid: string;
  readonly version: OcppVersion;
  /** The version's `proto_ver`, for the user property on what is published. */
  readonly protoVer: string;
  readonly ctx: SessionContext;
  readonly state: SessionState;
  keepaliveS: number;
  /** Downstream CALLs, made on the first one: most sessions never receive one. */
  queue: CallQueue | undefined;
  upCall: UpCall | undefined;
  /** Its share of the MQTT publish backlog (edge/publish-share.ts); none: unbounded. */
  readonly share?: PublishShare | undefined;
  pendingPublishes: number;
  setState(next: SessionState): void;
  /** Writes one OCPP message; false when it could not be written (closed, or over the backpressure limit). */
  write(text: string): boolean;
  close(code: number, text: string, reason: CloseReason): void;
  /** Answers a downstream message that did not reach the charge point. */
  undelivered(message: DownstreamMessage | PendingCall, reason: GatewayReason, ack?: Ack): void;
}
