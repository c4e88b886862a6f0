import type { DownstreamMessage } from '../../ocpp/message.js';
import type { Ack } from '../../ocpp/message.js';
import { encodeFrame, type JsonObject } from '../../ocpp/frame.js';
import type { GatewayReason } from '../../ocpp/error-codes.js';
import { CallQueue, type PendingCall, type WriteFailure } from './call-queue.js';
import { deliverSend, writeReply } from './direct-write.js';
import type { SessionCore } from './session-context.js';

/**
 * Backend → charge point: one downstream message per type. `ack` runs exactly once, when its
 * outcome is out: for a CALL, the CP's answer or the gateway's error reply published; for a
 * CALLRESULT/CALLERROR, written to the socket (or reported).
 */
export function deliver(session: SessionCore, message: DownstreamMessage, ack?: Ack): void {
  const { version } = session;
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
    case 5:
    case 6:
      // OCPP-J 2.1 only: a 1.6 or 2.0.1 charge point would answer MessageTypeNotSupported or worse.
      if (!version.messageTypes.includes(message.type)) {
        session.undelivered(message, 'unsupported_type', ack);
        return;
      }
      if (message.type === 5) {
        writeReply(
          session,
          [5, message.uniqueId, message.errorCode, message.errorDescription, message.errorDetails],
          ack,
        );
      } else {
        deliverSend(session, message.uniqueId, message.action, message.payload, ack);
      }
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
      protoVer: session.protoVer,
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
      protoVer: session.protoVer,
      uniqueId,
      action,
      reason: 'queue_full',
      errorCode: version.errorCodes.generic,
      description: `more than ${ctx.maxQueueLength} commands waiting`,
      ack: ack,
    });
  }
}

function callQueue(session: SessionCore): CallQueue {
  const { ctx, version } = session;
  session.queue ??= new CallQueue(
    ctx.maxQueueLength,
    ctx.callTimeoutMs,
    {
      write: (call) => writeCall(session, call),
      timedOut: (call) => {
        ctx.metrics.callTimedOut(call.action, ctx.callTimeoutMs / 1000);
        ctx.publisher.gatewayError({
          cid: session.cid,
          protoVer: session.protoVer,
          uniqueId: call.uniqueId,
          action: call.action,
          reason: 'timeout',
          errorCode: version.errorCodes.generic,
          description: `no answer within ${ctx.callTimeoutMs} ms`,
          ack: call.ack,
        });
      },
      notWritten: (call, failure) => notWritten(session, call, failure),
      depthChanged: (delta) => ctx.metrics.queueDepth.inc(delta),
    },
    ctx.clock,
  );
  return session.queue;
}

/**
 * The queue could not write `call`: its outcome is an error reply, and the queue moves on. A CALL
 * the socket refused was never written, so it is answered `backpressure` (and only that).
 */
function notWritten(session: SessionCore, call: PendingCall, failure: WriteFailure): void {
  const { ctx, version } = session;
  const [reason, errorCode, description]: [GatewayReason, string, string] =
    failure === 'unwritable'
      ? ['backpressure', version.errorCodes.generic, 'charge point socket is not writable']
      : failure === 'malformed'
        ? ['malformed', version.errorCodes.malformed, 'command cannot be encoded as an OCPP-J frame']
        : [
            'too_large',
            version.errorCodes.generic,
            `frame would exceed OCPP_GW_MAX_FRAME_BYTES (${ctx.maxFrameBytes})`,
          ];
  ctx.publisher.gatewayError({
    cid: session.cid,
    protoVer: session.protoVer,
    uniqueId: call.uniqueId,
    action: call.action,
    reason,
    errorCode,
    description,
    ack: call.ack,
  });
}

function writeCall(session: SessionCore, call: PendingCall): WriteFailure | undefined {
  const { ctx } = session;
  const encoded = encodeFrame([2, call.uniqueId, call.action, call.payload], ctx.maxFrameBytes);
  if (!encoded.ok) return encoded.problem === 'unencodable' ? 'malformed' : 'too_large';
  if (!session.write(encoded.text)) return 'unwritable';
  ctx.metrics.message('downstream', 'call', call.action);
  return undefined;
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
  if (writeReply(session, [3, uniqueId, payload], ack)) applyHeartbeatRule(session, payload, upCall?.action);
}

/**
 * EMQX adopts the heartbeat interval from any downstream CALLRESULT with `status: Accepted` and
 * an `interval` (docs/architecture.md §3.7, structural match; where we differ: §7.13); an Accepted BootNotification boots the session.
 * 2.0.1 and 2.1 sessions follow the BootNotification reply only.
 */
function applyHeartbeatRule(session: SessionCore, payload: JsonObject, action: string | undefined): void {
  const { status, interval } = payload;
  if (status !== 'Accepted' || typeof interval !== 'number') return;
  if (action !== undefined && action !== 'BootNotification') return;
  // OCPP 2.0.1 Part 2 B01: 2.x takes the interval from an accepted BootNotificationResponse only
  // (a 2.x reply with `status` and `interval` could be another action's).
  if (action === undefined && session.version.heartbeatFromBootOnly) return;
  if (Number.isInteger(interval) && interval >= 0) session.keepaliveS = interval;
  if (session.state === 'open') session.setState('booted');
}
