import type { DownstreamMessage } from '../bridge/envelope.js';
import type { Settled } from '../bridge/upstream-publisher.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import {
  encodeFrame,
  parseFrame,
  serializeFrame,
  type Frame,
  type JsonObject,
  type ParseResult,
} from '../ocpp/frame.js';
import { OcppError } from '../ocpp/ocpp-error.js';
import type { OcppVersionInfo } from '../ocpp/versions.js';
import { CallQueue, type PendingCall, type WriteFailure } from './call-queue.js';
import { reasonFromCode, type CloseReason } from './close-reason.js';
import type { CpSocket } from './cp-socket.js';
import type { SessionContext } from './session-context.js';
import { presenceBody } from './presence.js';

export type { CloseReason } from './close-reason.js';
export type SessionState = 'open' | 'booted' | 'closing' | 'closed';

/**
 * One charge point's socket: `open -> booted -> closing -> closed` (DESIGN §3). It bridges the
 * CP's frames to MQTT, serialises downstream CALLs through a lazily made {@link CallQueue}, and
 * answers every downstream CALL it cannot complete with a gateway error reply.
 */
export class Session {
  state: SessionState = 'open';
  /** Date.now() of the last OCPP text frame; pings do not count (reference §2.6). */
  lastReceivedAt: number;
  keepaliveS: number;
  readonly connectedAt: number;
  /**
   * This socket's ownership epoch (DESIGN §4 `{nodeId}|{epoch}`): unique per session, so a
   * message addressed to an older session of the same charge point is recognised as stale.
   */
  readonly epoch: string;
  private ws: CpSocket | undefined;
  private queue: CallQueue | undefined;
  /** The CP's latest CALL, so a downstream CALLRESULT can be checked against its action. */
  private upCall: { readonly id: string; readonly action: string } | undefined;
  private closeReason: CloseReason | undefined;

  constructor(
    readonly cid: string,
    readonly version: OcppVersionInfo,
    readonly remoteAddress: string,
    readonly username: string | undefined,
    private readonly ctx: SessionContext,
  ) {
    this.connectedAt = Date.now();
    this.lastReceivedAt = this.connectedAt;
    this.keepaliveS = ctx.heartbeatIntervalS;
    this.epoch = ctx.nextEpoch();
  }

  get protoVer(): string {
    return this.version.protoVer;
  }

  private setState(next: SessionState): void {
    if (this.state === next) return;
    this.ctx.log.debug({ cpId: this.cid, from: this.state, to: next }, 'session state');
    this.state = next;
  }

  /** The socket is open: take ownership of the id (newest wins) and announce presence. */
  attach(ws: CpSocket): void {
    this.ws = ws;
    const { ctx } = this;
    const previous = ctx.table.add(this);
    previous?.close(1000, 'replaced', 'replaced');
    ctx.metrics.connections.labels(this.version.protoVer).inc();
    ctx.publisher.presence(this.cid, 'connected', presenceBody(this, ctx.nodeId));
  }

  onText(text: string): void {
    const receivedAt = Date.now();
    const startedAt = performance.now();
    this.lastReceivedAt = receivedAt;
    const parsed = parseFrame(text, this.version.messageTypes);
    if (!parsed.ok) {
      this.rejectFrame(parsed);
      return;
    }
    const { publisher, upstreamSchema } = this.ctx;
    const frame = parsed.frame;
    switch (frame[0]) {
      case 2: {
        const invalid = upstreamSchema?.validate(frame[2], 'request', frame[3]);
        if (invalid !== undefined) {
          this.answer(frame[1], invalid);
          return;
        }
        // The backend never saw it: tell the CP now so it can retry (OCPP-J 1.6 §4.2.3 InternalError).
        const published = publisher.call(this, frame, parsed.payloadText, receivedAt, startedAt, () =>
          this.answer(frame[1], new OcppError('InternalError', 'could not forward the CALL to the backend')),
        );
        if (published) this.upCall = { id: frame[1], action: frame[2] };
        else this.answer(frame[1], UNENCODABLE);
        return;
      }
      case 3: {
        const call = this.settle(frame[1]);
        const invalid =
          call === undefined ? undefined : upstreamSchema?.validate(call.action, 'response', frame[2]);
        if (invalid !== undefined && call !== undefined) {
          publisher.gatewayError(
            this.cid,
            call.uniqueId,
            call.action,
            'invalid_reply',
            invalid.errorCode,
            invalid.message,
            call.settled,
          );
          return;
        }
        const payload = parsed.payloadText;
        const { action, settled } = call ?? {};
        if (!publisher.callResult(this, frame, payload, action, receivedAt, startedAt, settled)) {
          this.replyRejected(call, UNENCODABLE);
        }
        return;
      }
      case 4: {
        const call = this.settle(frame[1]);
        if (!publisher.callError(this, frame, call?.action, receivedAt, startedAt, call?.settled)) {
          this.replyRejected(call, UNENCODABLE);
        }
        return;
      }
      default: {
        const unreachable: never = frame;
        throw new Error(`unhandled frame ${String(unreachable)}`);
      }
    }
  }

  onBinary(): void {
    // OCPP-J 1.6 §3: messages are text frames. RFC 6455 §7.4.1: 1003 = unacceptable data type.
    this.close(1003, 'binary frames are not supported', 'binary_frame');
  }

  private settle(uniqueId: string): PendingCall | undefined {
    const call = this.queue?.settle(uniqueId);
    if (call !== undefined) {
      this.ctx.metrics.callDuration.labels(call.action).observe((performance.now() - call.sentAt) / 1000);
    }
    return call;
  }

  private rejectFrame(parsed: Extract<ParseResult, { ok: false }>): void {
    const { error, replyId, replyTo } = parsed;
    this.ctx.log.debug(
      { cpId: this.cid, errorCode: error.errorCode, reason: error.message },
      'malformed frame',
    );
    if (replyId !== undefined) this.answer(replyId, error);
    else this.replyRejected(replyTo === undefined ? undefined : this.settle(replyTo), error);
  }

  /**
   * A CALLRESULT/CALLERROR that cannot be bridged is never answered (OCPP-J 1.6 §4.2.3: a
   * CALLERROR answers a CALL), only counted; if it ended a downstream CALL, that command's
   * outcome is still owed to the backend: an `invalid_reply` error reply.
   */
  private replyRejected(call: PendingCall | undefined, error: OcppError): void {
    this.ctx.metrics.frameErrors.labels(error.errorCode).inc();
    if (call === undefined) return;
    this.ctx.publisher.gatewayError(
      this.cid,
      call.uniqueId,
      call.action,
      'invalid_reply',
      error.errorCode,
      error.message,
      call.settled,
    );
  }

  private answer(uniqueId: string, error: OcppError): void {
    this.ctx.metrics.frameErrors.labels(error.errorCode).inc();
    this.write(serializeFrame(error.toCallError(uniqueId)));
  }

  /**
   * Takes one downstream message. `settled` runs exactly once, when its outcome is out: for a
   * CALL, the CP's answer or the gateway's error reply published; for a CALLRESULT/CALLERROR,
   * written to the socket (or reported).
   */
  deliver(message: DownstreamMessage, settled?: Settled): void {
    if (this.state === 'closing' || this.state === 'closed') {
      this.fail(message, 'offline', settled);
      return;
    }
    switch (message.type) {
      case 2:
        this.deliverCall(message.uniqueId, message.action, message.payload, settled);
        return;
      case 3:
        this.deliverResult(message.uniqueId, message.payload, settled);
        return;
      case 4:
        if (this.upCall?.id === message.uniqueId) this.upCall = undefined;
        this.writeReply(
          [4, message.uniqueId, message.errorCode, message.errorDescription, message.errorDetails],
          settled,
        );
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`unhandled message ${String(unreachable)}`);
      }
    }
  }

  private deliverCall(
    uniqueId: string,
    action: string,
    payload: JsonObject,
    settled: Settled | undefined,
  ): void {
    const { ctx } = this;
    const invalid = ctx.downstreamSchema?.validate(action, 'request', payload);
    if (invalid !== undefined) {
      ctx.publisher.gatewayError(
        this.cid,
        uniqueId,
        action,
        'schema_violation',
        invalid.errorCode,
        invalid.message,
        settled,
      );
      return;
    }
    this.queue ??= new CallQueue(ctx.maxQueueLength, ctx.callTimeoutMs, {
      write: (call) => this.writeCall(call),
      notWritten: (call, failure) => this.notWritten(call, failure),
      timedOut: (call) =>
        ctx.publisher.gatewayError(
          this.cid,
          call.uniqueId,
          call.action,
          'timeout',
          'GenericError',
          `no answer within ${ctx.callTimeoutMs} ms`,
          call.settled,
        ),
      depthChanged: (delta) => ctx.metrics.queueDepth.inc(delta),
    });
    const outcome = this.queue.enqueue(uniqueId, action, payload, settled);
    if (outcome === 'full') {
      ctx.publisher.gatewayError(
        this.cid,
        uniqueId,
        action,
        'queue_full',
        'GenericError',
        `more than ${ctx.maxQueueLength} commands waiting`,
        settled,
      );
    }
  }

  private writeCall(call: PendingCall): WriteFailure | undefined {
    const encoded = encodeFrame([2, call.uniqueId, call.action, call.payload], this.ctx.maxFrameBytes);
    if (!encoded.ok) return encoded.problem === 'unencodable' ? 'malformed' : 'too_large';
    if (!this.write(encoded.text)) return 'unwritable';
    this.ctx.metrics.message('downstream', 'call', call.action);
    return undefined;
  }

  /** The queue could not write `call`: its outcome is an error reply, and the queue moves on. */
  private notWritten(call: PendingCall, failure: WriteFailure): void {
    const { publisher, maxFrameBytes } = this.ctx;
    const [reason, code, description]: [GatewayReason, string, string] =
      failure === 'unwritable'
        ? ['backpressure', 'GenericError', 'charge point socket is not writable']
        : failure === 'malformed'
          ? ['malformed', 'FormationViolation', 'command cannot be encoded as an OCPP-J frame']
          : ['too_large', 'GenericError', `frame would exceed OCPP_GW_MAX_FRAME_BYTES (${maxFrameBytes})`];
    publisher.gatewayError(this.cid, call.uniqueId, call.action, reason, code, description, call.settled);
  }

  private deliverResult(uniqueId: string, payload: JsonObject, settled: Settled | undefined): void {
    const { ctx } = this;
    const upCall = this.upCall?.id === uniqueId ? this.upCall : undefined;
    if (upCall !== undefined) {
      this.upCall = undefined;
      const invalid = ctx.downstreamSchema?.validate(upCall.action, 'response', payload);
      if (invalid !== undefined) {
        ctx.metrics.commandFailed('schema_violation');
        ctx.publisher.diagnostic(
          {
            reason: 'schema_violation',
            cid: this.cid,
            uniqueId,
            action: upCall.action,
            errorCode: invalid.errorCode,
            description: invalid.message,
          },
          settled,
        );
        return;
      }
    }
    if (this.writeReply([3, uniqueId, payload], settled)) this.applyHeartbeatRule(payload, upCall?.action);
  }

  /**
   * EMQX adopts the heartbeat interval from any downstream CALLRESULT with `status: Accepted` and
   * an `interval` (reference §2.6, structural match); an Accepted BootNotification boots the session.
   */
  private applyHeartbeatRule(payload: JsonObject, action: string | undefined): void {
    const { status, interval } = payload;
    if (status !== 'Accepted' || typeof interval !== 'number') return;
    if (action !== undefined && action !== 'BootNotification') return;
    if (Number.isInteger(interval) && interval >= 0) this.keepaliveS = interval;
    if (this.state === 'open') this.setState('booted');
  }

  /**
   * Writes a backend CALLRESULT/CALLERROR; what cannot be written is reported on the diagnostics
   * topic (there is no Reply topic for a reply). True when written.
   */
  private writeReply(frame: Frame, settled: Settled | undefined): boolean {
    const type = frame[0] === 3 ? 3 : 4;
    const encoded = encodeFrame(frame, this.ctx.maxFrameBytes);
    if (!encoded.ok) {
      const reason = encoded.problem === 'unencodable' ? 'malformed' : 'too_large';
      this.ctx.publisher.undelivered(this.cid, type, frame[1], undefined, reason, settled);
      return false;
    }
    if (!this.write(encoded.text)) {
      this.ctx.publisher.undelivered(this.cid, type, frame[1], undefined, 'offline', settled);
      return false;
    }
    this.ctx.metrics.message('downstream', type === 3 ? 'callresult' : 'callerror', undefined);
    settled?.();
    return true;
  }

  /** Writes one OCPP message as one WebSocket text message (never concatenated, unlike EMQX). */
  private write(text: string): boolean {
    const ws = this.ws;
    if (ws === undefined || this.state === 'closing' || this.state === 'closed') return false;
    let status = 0;
    ws.cork(() => {
      status = ws.send(text, false, false);
    });
    if (status === 2) {
      // Over maxBackpressure: the CP is not reading. Close rather than buffer without bound.
      this.close(1008, 'backpressure limit', 'backpressure');
      return false;
    }
    return true;
  }

  /** Gateway-initiated close; the presence event follows from {@link onClosed}. */
  close(code: number, text: string, reason: CloseReason): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.closeReason = reason;
    this.setState('closing');
    this.ws?.end(code, text);
  }

  /** The socket is gone (uWS close handler), whoever closed it. */
  onClosed(code: number): void {
    if (this.state === 'closed') return;
    const reason = this.closeReason ?? reasonFromCode(code);
    this.setState('closed');
    this.ws = undefined;
    const { ctx } = this;
    ctx.table.remove(this);
    ctx.metrics.connections.labels(this.version.protoVer).dec();
    ctx.metrics.disconnects.labels(reason).inc();
    const pending = this.queue?.clear();
    if (pending?.outstanding !== undefined) this.fail(pending.outstanding, 'disconnected');
    for (const call of pending?.waiting ?? []) {
      // Newest wins: the charge point is connected again (here or on another node), so what it
      // never saw follows it there instead of failing. The outstanding CALL was written to the
      // old socket and may have been acted on: that one is answered `disconnected`, not re-sent.
      if (reason === 'replaced') {
        const message = {
          type: 2,
          uniqueId: call.uniqueId,
          action: call.action,
          payload: call.payload,
        } as const;
        ctx.reroute(this.cid, message, call.settled ?? noop);
      } else {
        this.fail(call, 'offline');
      }
    }
    ctx.publisher.presence(
      this.cid,
      'disconnected',
      presenceBody(this, ctx.nodeId, { reason, code, at: Date.now() }),
    );
    ctx.log.debug({ cpId: this.cid, code, reason }, 'session closed');
  }

  private fail(message: DownstreamMessage | PendingCall, reason: GatewayReason, settled?: Settled): void {
    // A PendingCall is always a CALL and carries its own `settled`; a DownstreamMessage says what it is.
    const type = 'type' in message ? message.type : 2;
    const action = 'action' in message ? message.action : undefined;
    const done = 'type' in message ? settled : message.settled;
    this.ctx.publisher.undelivered(this.cid, type, message.uniqueId, action, reason, done);
  }
}

function noop(): void {}

/** A frame that parsed but cannot be encoded again for MQTT (guarded; the JSON limits prevent it). */
const UNENCODABLE = new OcppError('FormationViolation', 'frame cannot be encoded for MQTT');
