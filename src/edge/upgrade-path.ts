import type { Authenticator } from '../auth/authenticator.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { VERSIONS } from '../ocpp/versions/index.js';
import type { Admission, CallLimiter } from './admission.js';
import { finishLater } from './async-upgrade.js';
import { checkUpgrade, combineHeaderLines, type HandshakeResult } from './handshake.js';
import { Session } from './session/session.js';
import type { SessionContext } from './session/session-context.js';
import { writeRejection, type RejectReason, type RejectStatus } from './upgrade-rejection.js';
import type { HttpRequest, HttpResponse, us_socket_context_t } from './uws.js';

/** Per-socket user data: the session and its CALL limiter. */
export interface SocketData {
  readonly session: Session;
  readonly calls: CallLimiter;
}

/** What the upgrade path asks of the listener that owns it. */
export interface UpgradeNode {
  /** False once the node drains: new upgrades get 503 `draining`. */
  accepting(): boolean;
  /** True while the descriptor budget is spent: 503 `fd_limit`. */
  fdsRefusing(): boolean;
}

const textDecoder = new TextDecoder('utf-8');

/**
 * The answer to one WebSocket upgrade, in the order a refusal costs least: node state, the
 * handshake rules (handshake.ts), the per-address rate (admission.ts), then station
 * authentication (auth/), which may wait on the credential store. Shared by the ws and wss apps
 * (docs/architecture.md §2.3).
 */
export class UpgradePath {
  constructor(
    private readonly node: UpgradeNode,
    private readonly config: Config,
    private readonly ctx: SessionContext,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly admission: Admission,
    private readonly auth: Authenticator | undefined,
  ) {}

  /**
   * One upgrade: node checks, handshake rules, then station authentication, which may wait on
   * the credential store. `secure`: it arrived on a TLS listener (profile 2 needs TLS).
   */
  handle(res: HttpResponse, req: HttpRequest, context: us_socket_context_t, secure = false): void {
    // Everything from `req` is read now: it is invalid after this callback returns.
    const lines: Array<[string, string]> = [];
    req.forEach((name, value) => lines.push([name, value]));
    const request = { url: req.getUrl(), headers: combineHeaderLines(lines) };
    if (!this.node.accepting()) {
      this.reject(res, 503, 'draining');
      return;
    }
    if (this.node.fdsRefusing()) {
      this.reject(res, 503, 'fd_limit');
      return;
    }
    const verdict = checkUpgrade(request, this.config);
    if (!verdict.ok) {
      this.reject(res, verdict.status, verdict.reason);
      return;
    }
    const peer = textDecoder.decode(res.getRemoteAddressAsText());
    const refusal = this.admission.admitUpgrade(peer, performance.now());
    if (refusal !== undefined) {
      this.reject(res, refusal.status, refusal.reason);
      return;
    }
    const handshake = {
      key: req.getHeader('sec-websocket-key'),
      extensions: req.getHeader('sec-websocket-extensions'),
      context,
    };
    const auth = this.auth;
    if (auth === undefined || this.config.auth.mode === 'none') {
      const address = auth?.proxies.origin(peer, request.headers, secure).address ?? peer;
      this.accept(res, verdict, address, handshake);
      return;
    }
    const pending = this.admission.beginPending();
    if ('refusal' in pending) {
      this.reject(res, pending.refusal.status, pending.refusal.reason);
      return;
    }
    // The store may be Redis or a webhook: the answer comes in a later turn.
    finishLater(
      res,
      auth.authenticate({ cid: verdict.cid, headers: request.headers, peer, secure }),
      (result) => {
        if (!this.node.accepting()) this.reject(res, 503, 'draining');
        else if (!result.ok) this.reject(res, result.status, result.reason);
        else this.accept(res, verdict, result.origin.address, handshake);
      },
      (error) => {
        this.log.error({ err: error, cpId: verdict.cid }, 'authentication failed unexpectedly');
        this.reject(res, 503, 'store_unavailable');
      },
      pending.settled,
    );
  }

  private accept(
    res: HttpResponse,
    verdict: Extract<HandshakeResult, { ok: true }>,
    remoteAddress: string,
    handshake: { key: string; extensions: string; context: us_socket_context_t },
  ): void {
    const session = new Session(
      verdict.cid,
      VERSIONS[verdict.subprotocol],
      remoteAddress,
      undefined,
      this.ctx,
      this.admission.share,
    );
    this.metrics.upgrades.labels('accepted', '').inc();
    res.upgrade<SocketData>(
      { session, calls: this.admission.callLimiter(performance.now()) },
      handshake.key,
      verdict.echoProtocol ? verdict.subprotocol : '',
      handshake.extensions,
      handshake.context,
    );
  }

  private reject(res: HttpResponse, status: RejectStatus, reason: RejectReason): void {
    this.metrics.upgrades.labels('rejected', reason).inc();
    writeRejection(res, status, reason);
  }
}
