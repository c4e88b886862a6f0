import type { DownstreamMessage } from '../../ocpp/message.js';
import type { Ack } from '../../ocpp/message.js';
import type { GatewayReason } from '../../ocpp/error-codes.js';
import type { OcppVersion } from '../../ocpp/versions/index.js';
import type { CallQueue, PendingCall } from './call-queue.js';
import type { CpSocket } from './cp-socket.js';
import type { PublishShare } from '../publish-share.js';
import { receive } from './inbound.js';
import { deliver } from './outbound.js';
import { presenceBody } from './presence.js';
import { reasonFromCode, type CloseReason } from './close-reason.js';
import type { SessionContext, SessionCore, SessionState, UpCall } from './session-context.js';

export type { CloseReason } from './close-reason.js';
export type { SessionState } from './session-context.js';

/**
 * One charge point's socket: `open -> booted -> closing -> closed` (docs/architecture.md §3.1). This file holds
 * the state, the socket write with its backpressure limit, the close and presence; what the CP
 * sends is handled in inbound.ts, what the backend sends in outbound.ts, which answers every
 * downstream CALL it cannot complete with a gateway error reply.
 */
export class Session implements SessionCore {
  state: SessionState = 'open';
  /** Date.now() of the last OCPP text frame; pings do not count (docs/architecture.md §3.7). */
  lastReceivedAt: number;
  keepaliveS: number;
  readonly connectedAt: number;
  /**
   * This socket's ownership epoch (`{nodeId}|{epoch}`, docs/architecture.md §5.2; stale epochs §3.8): unique per session, so a
   * message addressed to an older session of the same charge point is recognised as stale.
   */
  readonly epoch: string;
  queue: CallQueue | undefined;
  upCall: UpCall | undefined;
  /** This socket's publishes the broker has not settled yet (publish-share.ts). */
  pendingPublishes = 0;
  private ws: CpSocket | undefined;
  private closeReason: CloseReason | undefined;

  constructor(
    readonly cid: string,
    readonly version: OcppVersion,
    readonly remoteAddress: string,
    readonly username: string | undefined,
    readonly ctx: SessionContext,
    /** Its share of the MQTT publish backlog; none: unbounded (in-process tests). */
    readonly share?: PublishShare,
  ) {
    this.connectedAt = Date.now();
    this.lastReceivedAt = this.connectedAt;
    this.keepaliveS = ctx.heartbeatIntervalS;
    this.epoch = ctx.nextEpoch(version.protoVer);
  }

  get protoVer(): string {
    return this.version.protoVer;
  }

  setState(next: SessionState): void {
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
    ctx.publisher.presence(this.cid, 'connected', presenceBody(this, ctx.nodeId), this.protoVer);
  }

  onText(text: string): void {
    const receivedAt = Date.now();
    this.lastReceivedAt = receivedAt;
    receive(this, text, receivedAt);
  }

  onBinary(): void {
    // OCPP-J 1.6 §3: messages are text frames. RFC 6455 §7.4.1: 1003 = unacceptable data type.
    this.close(1003, 'binary frames are not supported', 'binary_frame');
  }

  /** Takes one downstream message (outbound.ts); `ack` runs once its outcome is out. */
  deliver(message: DownstreamMessage, ack?: Ack): void {
    deliver(this, message, ack);
  }

  /** Writes one OCPP message as one WebSocket text message (never concatenated, unlike EMQX). */
  write(text: string): boolean {
    const ws = this.ws;
    if (ws === undefined || this.state === 'closing' || this.state === 'closed') return false;
    let status = 0;
    ws.cork(() => {
      // compress: honoured only where permessage-deflate was negotiated (RFC 7692, OCPP_GW_COMPRESSION).
      status = ws.send(text, false, true);
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
    if (pending?.outstanding !== undefined) this.undelivered(pending.outstanding, 'disconnected');
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
        ctx.reroute(this.cid, message, call.ack ?? noop);
      } else {
        this.undelivered(call, 'offline');
      }
    }
    ctx.publisher.presence(
      this.cid,
      'disconnected',
      presenceBody(this, ctx.nodeId, { reason, code, at: Date.now() }),
      this.protoVer,
    );
    ctx.log.debug({ cpId: this.cid, code, reason }, 'session closed');
  }

  undelivered(message: DownstreamMessage | PendingCall, reason: GatewayReason, ack?: Ack): void {
    // A PendingCall is always a CALL and carries its own `ack`; a DownstreamMessage says what it is.
    const type = 'type' in message ? message.type : 2;
    const action = 'action' in message ? message.action : undefined;
    const messageAck = 'type' in message ? ack : message.ack;
    this.ctx.publisher.undelivered(this.cid, type, message.uniqueId, action, reason, messageAck);
  }
}

function noop(): void {}
