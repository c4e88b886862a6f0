import type { Ack } from '../../ocpp/message.js';
import {
  encodeFrame,
  type CallErrorFrame,
  type CallResultErrorFrame,
  type CallResultFrame,
  type JsonObject,
} from '../../ocpp/frame.js';
import type { SessionCore } from './session-context.js';

/*
 * Backend → charge point frames written at once, outside the CALL queue (outbound.ts): replies
 * (CALLRESULT, CALLERROR, 2.1 CALLRESULTERROR) and 2.1 SENDs. None waits for an answer; each
 * outcome is the write, or a diagnostics message saying why it was not written.
 */

/**
 * A backend SEND (OCPP-J 2.1 Part 4 §4.2.5) is written at once, beside an outstanding CALL (the
 * one-CALL rule is about CALLs awaiting an answer, and a SEND awaits none); no reply is tracked.
 * Its outcome is the write, or a diagnostics message saying why it was not written.
 */
export function deliverSend(
  session: SessionCore,
  uniqueId: string,
  action: string,
  payload: JsonObject,
  ack: Ack | undefined,
): void {
  const { ctx, version } = session;
  const invalid = ctx.schemas.downstream(version)?.validate(action, 'request', payload);
  if (invalid !== undefined) {
    ctx.metrics.commandFailed('schema_violation');
    ctx.publisher.diagnostic(
      {
        reason: 'schema_violation',
        cid: session.cid,
        uniqueId,
        messageTypeId: 6,
        action,
        errorCode: invalid.code(version),
        description: invalid.message,
      },
      ack,
    );
    return;
  }
  const encoded = encodeFrame([6, uniqueId, action, payload], ctx.maxFrameBytes);
  if (!encoded.ok) {
    const reason = encoded.problem === 'unencodable' ? 'malformed' : 'too_large';
    ctx.publisher.undelivered(session.cid, 6, uniqueId, action, reason, ack);
    return;
  }
  if (!session.write(encoded.text)) {
    ctx.publisher.undelivered(session.cid, 6, uniqueId, action, 'offline', ack);
    return;
  }
  ctx.metrics.message('downstream', 'send', action);
  ack?.();
}

/**
 * Writes a backend CALLRESULT/CALLERROR; what cannot be written is reported on the diagnostics
 * topic (there is no Reply topic for a reply). True when written.
 */
export function writeReply(
  session: SessionCore,
  frame: CallResultFrame | CallErrorFrame | CallResultErrorFrame,
  ack: Ack | undefined,
): boolean {
  const { ctx } = session;
  const type = frame[0];
  const encoded = encodeFrame(frame, ctx.maxFrameBytes);
  if (!encoded.ok) {
    const reason = encoded.problem === 'unencodable' ? 'malformed' : 'too_large';
    ctx.publisher.undelivered(session.cid, type, frame[1], undefined, reason, ack);
    return false;
  }
  if (!session.write(encoded.text)) {
    ctx.publisher.undelivered(session.cid, type, frame[1], undefined, 'offline', ack);
    return false;
  }
  ctx.metrics.message('downstream', KIND[type], undefined);
  ack?.();
  return true;
}

const KIND = { 3: 'callresult', 4: 'callerror', 5: 'callresulterror' } as const;
