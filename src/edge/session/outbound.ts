import type { DownstreamMessage } from '../../ocpp/message.js';
import type { Ack } from '../../ocpp/message.js';
import { serializeFrame, type Frame, type JsonObject } from '../../ocpp/frame.js';
import { CallQueue, type PendingCall } from './call-queue.js';
import type { SessionCore } from './session-context.js';

/**
 * Backend → charge point: one downstream message per type. `ack` runs exactly once, when its
 * outcome is out: for a CALL, the CP's answer or the gateway's error reply published; for a
 * CALLRESULT/CALLERROR, written to the socket (or reported).
 */
export function deliver(session: SessionCore, message: DownstreamMessage, ack?: Ack): void {
  if (session.state === 'closing' || session.state === 'closed') {
    session.undelivered(message, 'offline', ack);
    return;
  }
  switch (message.type) {
    case 2:
      deliverCall(session, message.uniqueId, message.action, message.payload, ack);
      return;
    case 3:
      deliverResult(session, message.uniqueId, message.payload, ack);
      return;
    case 4:
      if (session.upCall?.id === message.uniqueId) session.upCall = undefined;
      writeReply(
        session,
        [4, message.uniqueId, message.errorCode, message.errorDescription, message.errorDetails],
        ack,
      );
      return;
    default: {
      const unreachable: never = message;
      throw new Error(`unhandled message ${String(unreachable)}`);
    }
  }
}

function deliverCall(
  session: SessionCore,
  uniqueId: string,
  action: string,
  payload: JsonObject,
  ack: Ack | undefined,
): void {
  const { ctx, version } = session;
  const invalid = ctx.schemas.downstream(version)?.validate(action, 'request', payload);
  if (invalid !== undefined) {
    ctx.publisher.gatewayError({
      cid: session.cid,
      uniqueId,
      action,
      reason: 'schema_violation',
      errorCode: invalid.code(version),
      description: invalid.message,
      ack: ack,
    });
    return;
  }
  const outcome = callQueue(session).enqueue(uniqueId, action, payload, ack);
  if (outcome === 'full') {
    ctx.publisher.gatewayError({
      cid: session.cid,
      uniqueId,
      action,
      reason: 'queue_full',
      errorCode: version.errorCodes.generic,
      description: `more than ${ctx.maxQueueLength} commands waiting`,
      ack: ack,
    });
  } else if (outcome === 'unwritable') {
    unwritable(session, { uniqueId, action, ack });
  }
}

function callQueue(session: SessionCore): CallQueue {
  const { ctx, version } = session;
  session.queue ??= new CallQueue(ctx.maxQueueLength, ctx.callTimeoutMs, {
    write: (call) => writeCall(session, call),
    timedOut: (call) =>
      ctx.publisher.gatewayError({
        cid: session.cid,
        uniqueId: call.uniqueId,
        action: call.action,
        reason: 'timeout',
        errorCode: version.errorCodes.generic,
        description: `no answer within ${ctx.callTimeoutMs} ms`,
        ack: call.ack,
      }),
    unwritable: (call) => unwritable(session, call),
    depthChanged: (delta) => ctx.metrics.queueDepth.inc(delta),
  });
  return session.queue;
}

/** A CALL the socket refused: never written, so answered `backpressure` (and only that). */
function unwritable(session: SessionCore, call: Pick<PendingCall, 'uniqueId' | 'action' | 'ack'>): void {
  session.ctx.publisher.gatewayError({
    cid: session.cid,
    uniqueId: call.uniqueId,
    action: call.action,
    reason: 'backpressure',
    errorCode: session.version.errorCodes.generic,
    description: 'charge point socket is not writable',
    ack: call.ack,
  });
}

function writeCall(session: SessionCore, call: PendingCall): boolean {
  const written = session.write(serializeFrame([2, call.uniqueId, call.action, call.payload]));
  if (written) session.ctx.metrics.message('downstream', 'call', call.action);
  return written;
}

function deliverResult(
  session: SessionCore,
  uniqueId: string,
  payload: JsonObject,
  ack: Ack | undefined,
): void {
  const { ctx, version } = session;
  const upCall = session.upCall?.id === uniqueId ? session.upCall : undefined;
  if (upCall !== undefined) {
    session.upCall = undefined;
    const invalid = ctx.schemas.downstream(version)?.validate(upCall.action, 'response', payload);
    if (invalid !== undefined) {
      ctx.metrics.commandFailed('schema_violation');
      ctx.publisher.diagnostic(
        {
          reason: 'schema_violation',
          cid: session.cid,
          uniqueId,
          action: upCall.action,
          errorCode: invalid.code(version),
          description: invalid.message,
        },
        ack,
      );
      return;
    }
  }
  applyHeartbeatRule(session, payload, upCall?.action);
  writeReply(session, [3, uniqueId, payload], ack);
}

/**
 * EMQX adopts the heartbeat interval from any downstream CALLRESULT with `status: Accepted` and
 * an `interval` (reference §2.6, structural match); an Accepted BootNotification boots the session.
 */
function applyHeartbeatRule(session: SessionCore, payload: JsonObject, action: string | undefined): void {
  const { status, interval } = payload;
  if (status !== 'Accepted' || typeof interval !== 'number') return;
  if (action !== undefined && action !== 'BootNotification') return;
  if (Number.isInteger(interval) && interval >= 0) session.keepaliveS = interval;
  if (session.state === 'open') session.setState('booted');
}

function writeReply(session: SessionCore, frame: Frame, ack: Ack | undefined): void {
  const kind = frame[0] === 3 ? 'callresult' : 'callerror';
  if (session.write(serializeFrame(frame))) {
    session.ctx.metrics.message('downstream', kind, undefined);
    ack?.();
  } else {
    const type = frame[0] === 3 ? 3 : 4;
    session.ctx.publisher.undelivered(session.cid, type, frame[1], undefined, 'offline', ack);
  }
}
