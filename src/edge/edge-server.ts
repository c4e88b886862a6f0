import { uwsCompression } from './compression.js';
import type { Config } from '../config/index.js';
import { ListenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { FdBudget } from './fd-budget.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { SessionContext } from './session/session-context.js';
import { REJECT_REASONS } from './upgrade-rejection.js';
import { CLOSE_REASONS } from './session/close-reason.js';
import { Admission, refuseCall } from './admission.js';
import { TlsListener } from './tls-listener.js';
import { UpgradePath, type SocketData } from './upgrade-path.js';
import { TlsMetrics } from './tls-metrics.js';
import { listenExclusive, loadedMaxHeaderBytes } from './uws.js';
import type { AppOptions, TemplatedApp, Uws, WebSocket, us_listen_socket } from './uws.js';

const textDecoder = new TextDecoder('utf-8');

/**
 * The WebSocket listener (uWS). Upgrade rules live in handshake.ts; here they meet the socket:
 * status codes on rejection, the negotiated subprotocol echoed in the 101, frame and
 * backpressure limits set on purpose (docs/architecture.md §2.3; close codes RFC 6455 §7.4.1).
 */
export class EdgeServer {
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | undefined;
  private bound: { readonly host: string; readonly port: number } | undefined;
  private accepting = true;
  private reopenFailing = false;
  private readonly fds: FdBudget;
  private readonly tls: TlsListener | undefined;
  private readonly admission: Admission;
  private readonly upgrades: UpgradePath;

  constructor(
    private readonly uws: Uws,
    private readonly config: Config,
    private readonly ctx: SessionContext,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly auth?: Authenticator,
  ) {
    this.app = uws.App();
    this.fds = new FdBudget(
      config.fdReserve,
      {
        pause: () => {
          this.closeListenSocket();
          this.tls?.pause();
        },
        resume: () => this.reopen() && (this.tls?.resume() ?? true),
      },
      log,
    );
    metrics.upgrades.labels('accepted', '').inc(0);
    for (const reason of REJECT_REASONS) metrics.upgrades.labels('rejected', reason).inc(0);
    // Labelled counters start at 0 for every known label (docs/architecture.md §6.5).
    for (const reason of CLOSE_REASONS) metrics.disconnects.labels(reason).inc(0);
    this.admission = new Admission(config.admission, metrics.registry);
    const node = { accepting: () => this.accepting, fdsRefusing: () => this.fds.refusing };
    this.upgrades = new UpgradePath(node, config, ctx, metrics, log, this.admission, auth);
    this.configure(this.app, false);
    if (config.tls !== undefined) {
      const secureApp = (options: AppOptions): TemplatedApp => this.configure(uws.SSLApp(options), true);
      this.tls = new TlsListener(uws, config.tls, secureApp, new TlsMetrics(metrics.registry), log);
    }
  }

  /**
   * Registers the gateway's behaviour on an app: the plain one and every generation of the
   * TLS one get the same handlers, so a station sees one gateway on either port.
   */
  private configure(app: TemplatedApp, secure: boolean): TemplatedApp {
    const { config, log } = this;
    // Every socket of the app, from accept on (+1) to its close before an upgrade (-1); an
    // upgraded socket leaves through the WebSocket `close` handler instead.
    app.filter((_res, count) => (count > 0 ? this.fds.socketOpened() : this.fds.socketClosed()));
    app.ws<SocketData>('/*', {
      compression: uwsCompression(config.compression), // RFC 7692, src/config/compression.ts
      // uWS refuses a message over maxPayloadLength itself, at the frame header or when the
      // fragments add up past it, by dropping the TCP connection without a close frame (the peer
      // sees 1006); it has no hook to send one. We let messages up to twice the limit through
      // and close those with 1009 ourselves (RFC 6455 §7.4.1); the uWS cap is the memory
      // backstop per socket. Invalid UTF-8 in a text message is dropped the same way before it
      // reaches `message` (uWS checks every text message), so no 1007 can be sent.
      maxPayloadLength: config.maxFrameBytes * 2,
      maxBackpressure: config.maxBackpressureBytes,
      closeOnBackpressureLimit: false,
      idleTimeout: config.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrades.handle(res, req, context, secure),
      open: (ws) => {
        this.admission.socketOpened();
        ws.getUserData().session.attach(ws);
      },
      message: (ws, message, isBinary) => {
        const { session, calls } = ws.getUserData();
        try {
          if (message.byteLength > config.maxFrameBytes)
            session.close(1009, 'frame too large', 'frame_too_large');
          else if (isBinary) session.onBinary();
          else {
            const text = textDecoder.decode(message);
            const verdict = calls.check(text, performance.now());
            if (verdict === 'pass') session.onText(text);
            else refuseCall(session, text, verdict);
          }
        } catch (error) {
          // Contain a bug to its own socket: 1011 = internal error (RFC 6455 §7.4.1).
          log.error({ cpId: session.cid, err: error }, 'frame handler failed');
          session.close(1011, 'internal error', 'internal_error');
        }
      },
      close: (ws, code) => {
        this.fds.socketClosed();
        this.admission.socketClosed();
        ws.getUserData().session.onClosed(code);
      },
    });
    // Anything that is not a WebSocket upgrade.
    app.any('/*', (res, req) => {
      const url = req.getUrl();
      const isOcppPath = url.startsWith(`${config.path}/`);
      res
        .writeStatus(isOcppPath ? '426 Upgrade Required' : '404 Not Found')
        .end(isOcppPath ? 'websocket_upgrade_required' : 'not_found');
    });
    return app;
  }

  /**
   * Opens the plain ws listener; resolves with its port, or 0 without listening when
   * OCPP_GW_PLAIN_WS=off (then only the wss listener takes stations).
   */
  listen(host: string, port: number): Promise<number> {
    if (this.config.tls?.plainWs === false) {
      this.log.info(
        { variable: 'OCPP_GW_PLAIN_WS' },
        'plain ws listener off: stations connect over wss only',
      );
      this.fds.start();
      return Promise.resolve(0);
    }
    return new Promise((resolve, reject) => {
      listenExclusive(this.uws, this.app, host, port, (socket) => {
        if (socket === false) {
          reject(new ListenError('OCPP WebSocket listener', port));
          return;
        }
        this.listenSocket = socket;
        const bound = this.uws.us_socket_local_port(socket);
        this.bound = { host, port: bound };
        const maxHeaderBytes = loadedMaxHeaderBytes();
        this.log.info(
          { host, port: bound, path: this.config.path, maxHeaderBytes },
          'OCPP WebSocket listener open',
        );
        if (maxHeaderBytes !== this.config.maxHeaderBytes) {
          // In-process use without main.ts, which sets the limit before uWS loads.
          this.log.warn(
            { maxHeaderBytes, configured: this.config.maxHeaderBytes },
            'uWS loaded with another header limit than OCPP_GW_MAX_HEADER_BYTES',
          );
        }
        this.fds.start();
        resolve(bound);
      });
    });
  }

  private closeListenSocket(): void {
    if (this.listenSocket === undefined) return;
    this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  /** Reopens the listener on the port it had (after the descriptor budget closed it). */
  private reopen(): boolean {
    if (!this.accepting || this.listenSocket !== undefined || this.bound === undefined) return true;
    const { host, port } = this.bound;
    listenExclusive(this.uws, this.app, host, port, (socket) => {
      if (socket !== false) this.listenSocket = socket;
    });
    if (this.listenSocket === undefined) {
      // Once per episode; the descriptor budget retries on every count.
      if (!this.reopenFailing)
        this.log.error({ host, port }, 'OCPP WebSocket listener could not reopen; retrying');
      this.reopenFailing = true;
      return false;
    }
    if (this.reopenFailing) this.log.info({ host, port }, 'OCPP WebSocket listener reopened');
    this.reopenFailing = false;
    return true;
  }

  /** Opens the wss listener when TLS is configured; resolves with its port. */
  async listenTls(host: string): Promise<number | undefined> {
    if (this.tls === undefined || this.config.tls === undefined) return undefined;
    return this.tls.listen(host, this.config.tls.port);
  }

  /** Serves the certificate and key files' current pair (SIGHUP); false when kept the old. */
  reloadTls(): boolean {
    return this.tls?.reload('signal') ?? false;
  }

  /** Stops accepting (new upgrades get 503) and closes the listen sockets; open sockets stay. */
  stopListening(): void {
    this.accepting = false;
    this.fds.stop();
    this.closeListenSocket();
    this.tls?.stop();
  }

  /** Last resort after drain: uWS `close()` ends whatever is left without close codes. */
  closeAll(): void {
    this.fds.stop();
    this.app.close();
    this.tls?.closeAll();
  }
}

export type { WebSocket };
