import { OcppError } from '../../ocpp/ocpp-error.js';
import {
  parseFrame,
  serializeFrame,
  type CallErrorFrame,
  type CallFrame,
  type CallResultErrorFrame,
  type CallResultFrame,
  type ParseResult,
  type SendFrame,
} from '../../ocpp/frame.js';
import type { PendingCall } from './call-queue.js';
import type { SessionCore } from './session-context.js';
import { OVER_SHARE, takeShare } from '../publish-share.js';

/** When a frame arrived: `receivedAt` for the user property, `startedAt` for the publish latency. */
interface Arrival {
  readonly receivedAt: number;
  readonly startedAt: number;
  readonly payloadText: string | undefined;
}

/**
 * Charge point → backend: one text message from the socket, parsed and handed to the handler of
 * its message type. The switch is exhaustive over the version's frame union, so a new message type
 * (OCPP 2.1's 5 CALLRESULTERROR and 6 SEND) gets its own handler here or does not compile.
 */
export function receive(session: SessionCore, text: string, receivedAt: number): void {
  const arrival = { receivedAt, startedAt: performance.now() };
  const parsed = parseFrame(text, session.version.messageTypes, session.version.maxUniqueIdLength);
  if (!parsed.ok) {
    rejectFrame(session, parsed);
    return;
  }
  const frame = parsed.frame;
  const at: Arrival = { ...arrival, payloadText: parsed.payloadText };
  switch (frame[0]) {
    case 2:
      onCall(session, frame, at);
      return;
    case 3:
      onCallResult(session, frame, at);
      return;
    case 4:
    case 5:
      onCallError(session, frame, at);
      return;
    case 6:
      onSend(session, frame, at);
      return;
    default: {
      const unreachable: never = frame;
      throw new Error(`unhandled frame ${String(unreachable)}`);
    }
  }
}

function onCall(session: SessionCore, frame: CallFrame, at: Arrival): void {
  const { ctx } = session;
  const invalid = ctx.schemas.upstream(session.version)?.validate(frame[2], 'request', frame[3]);
  if (invalid !== undefined) {
    answer(session, frame[1], invalid);
    return;
  }
  const release = takeShare(session, false);
  if (release === undefined) {
    // Counted as an admission refusal (publish-share.ts), not as a frame error.
    session.write(serializeFrame(OVER_SHARE.toCallError(frame[1], session.version)));
    return;
  }
  // The backend never saw it: tell the CP now so it can retry (OCPP-J 1.6 §4.2.3 InternalError).
  const failed = (): void =>
    answer(session, frame[1], new OcppError('internal', 'could not forward the CALL to the backend'));
  const published = ctx.publisher.call(
    session,
    frame,
    at.payloadText,
    at.receivedAt,
    at.startedAt,
    failed,
    release,
  );
  if (published) session.upCall = { id: frame[1], action: frame[2] };
  else {
    release();
    answer(session, frame[1], UNENCODABLE);
  }
}

function onCallResult(session: SessionCore, frame: CallResultFrame, at: Arrival): void {
  const { ctx } = session;
  const call = settle(session, frame[1]);
  const invalid =
    call === undefined
      ? undefined
      : ctx.schemas.upstream(session.version)?.validate(call.action, 'response', frame[2]);
  if (invalid !== undefined && call !== undefined) {
    ctx.publisher.gatewayError({
      cid: session.cid,
      protoVer: session.protoVer,
      uniqueId: call.uniqueId,
      action: call.action,
      reason: 'invalid_reply',
      errorCode: invalid.code(session.version),
      description: invalid.message,
      ack: call.ack,
    });
    return;
  }
  const { action, ack } = call ?? {};
  if (call !== undefined)
    ctx.answered?.(session.cid, session.version.subprotocol, call.action, call.payload, frame[2]);
  const release = takeShare(session, call !== undefined);
  if (release === undefined) return;
  if (
    !ctx.publisher.callResult(
      session,
      frame,
      at.payloadText,
      action,
      at.receivedAt,
      at.startedAt,
      ack,
      release,
    )
  ) {
    release();
    replyRejected(session, call, UNENCODABLE);
  }
}

/**
 * A 2.1 SEND (OCPP-J 2.1 Part 4 §4.2.5) goes where a CALL goes, with MessageTypeId 6, and is never
 * answered: not by the backend, and not by us when its payload breaks its schema (then it is
 * counted and reported on the diagnostics topic, docs/architecture.md §2.9). It is not the CP's
 * latest CALL either.
 */
function onSend(session: SessionCore, frame: SendFrame, at: Arrival): void {
  const { ctx, version } = session;
  const invalid = ctx.schemas.upstream(version)?.validate(frame[2], 'request', frame[3]);
  if (invalid !== undefined) {
    ctx.metrics.frameErrors.labels(invalid.code(version)).inc();
    ctx.publisher.diagnostic({
      reason: 'schema_violation',
      cid: session.cid,
      uniqueId: frame[1],
      messageTypeId: 6,
      action: frame[2],
      errorCode: invalid.code(version),
      description: invalid.message,
    });
    return;
  }
  // Over the share it has no one to tell either: counted under `publish_share` (publish-share.ts).
  const release = takeShare(session, false);
  if (release === undefined) return;
  const published = ctx.publisher.call(
    session,
    frame,
    at.payloadText,
    at.receivedAt,
    at.startedAt,
    () => {
      // No one to tell: a SEND has no answer. The publisher has counted and logged the failure.
    },
    release,
  );
  if (!published) {
    release();
    ctx.metrics.frameErrors.labels(UNENCODABLE.code(version)).inc();
  }
}

/**
 * A CALLERROR, or a 2.1 CALLRESULTERROR (OCPP-J 2.1 Part 4 §4.2.4): either settles the outstanding
 * downstream CALL of the same id and carries its Action (docs/architecture.md §2.5).
 */
function onCallError(session: SessionCore, frame: CallErrorFrame | CallResultErrorFrame, at: Arrival): void {
  const call = settle(session, frame[1]);
  const { publisher } = session.ctx;
  const release = takeShare(session, call !== undefined);
  if (release === undefined) return;
  if (!publisher.callError(session, frame, call?.action, at.receivedAt, at.startedAt, call?.ack, release)) {
    release();
    replyRejected(session, call, UNENCODABLE);
  }
}

/** The CP answered `uniqueId`: the outstanding downstream CALL it ends, if it is ours. */
function settle(session: SessionCore, uniqueId: string): PendingCall | undefined {
  const queue = session.queue;
  const call = queue?.settle(uniqueId);
  if (queue !== undefined && call !== undefined) {
    session.ctx.metrics.callAnswered(call.action, (queue.clock.now() - call.sentAt) / 1000);
  }
  return call;
}

function rejectFrame(session: SessionCore, parsed: Extract<ParseResult, { ok: false }>): void {
  const { ctx, version } = session;
  const { error, replyId, replyTo } = parsed;
  ctx.log.debug(
    { cpId: session.cid, errorCode: error.code(version), reason: error.message },
    'malformed frame',
  );
  if (replyId !== undefined) answer(session, replyId, error);
  else replyRejected(session, replyTo === undefined ? undefined : settle(session, replyTo), error);
}

/**
 * A CALLRESULT/CALLERROR that cannot be bridged is never answered (OCPP-J 1.6 §4.2.3: a CALLERROR
 * answers a CALL), only counted; if it ended a downstream CALL, that command's outcome is still
 * owed to the backend: an `invalid_reply` error reply.
 */
function replyRejected(session: SessionCore, call: PendingCall | undefined, error: OcppError): void {
  const { ctx, version } = session;
  ctx.metrics.frameErrors.labels(error.code(version)).inc();
  if (call === undefined) return;
  ctx.publisher.gatewayError({
    cid: session.cid,
    protoVer: session.protoVer,
    uniqueId: call.uniqueId,
    action: call.action,
    reason: 'invalid_reply',
    errorCode: error.code(version),
    description: error.message,
    ack: call.ack,
  });
}

function answer(session: SessionCore, uniqueId: string, error: OcppError): void {
  session.ctx.metrics.frameErrors.labels(error.code(session.version)).inc();
  session.write(serializeFrame(error.toCallError(uniqueId, session.version)));
}

/** A frame that parsed but cannot be encoded again for MQTT (guarded; the JSON limits prevent it). */
const UNENCODABLE = new OcppError('bad_payload', 'frame cannot be encoded for MQTT');
