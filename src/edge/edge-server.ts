import type { Config } from '../config.js';
import { ListenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { VERSIONS } from '../ocpp/versions.js';
import { checkHandshake } from './handshake.js';
import { Session } from './session.js';
import type { SessionContext } from './session-context.js';
import { listenExclusive } from './uws.js';
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  Uws,
  WebSocket,
  us_listen_socket,
  us_socket_context_t,
} from './uws.js';

/** Per-socket user data: the session itself, so a connection costs one JS object of ours. */
interface SocketData {
  readonly session: Session;
}

const textDecoder = new TextDecoder('utf-8');

/**
 * The WebSocket listener (uWS). Upgrade rules live in handshake.ts; here they meet the socket:
 * status codes on rejection, the negotiated subprotocol echoed in the 101, frame and
 * backpressure limits set on purpose (STYLE: uWS discipline).
 */
export class EdgeServer {
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | undefined;
  private accepting = true;

  constructor(
    private readonly uws: Uws,
    private readonly config: Config,
    private readonly ctx: SessionContext,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.app = uws.App();
    this.app.ws<SocketData>('/*', {
      compression: 0, // uWS.DISABLED: OCPP frames are small and deflate costs memory per socket
      // uWS drops a frame over maxPayloadLength without a close frame (the peer sees 1006).
      // We let frames up to twice the limit through and close those over it with 1009
      // ourselves (RFC 6455 §7.4.1); the uWS cap stays as the memory backstop.
      maxPayloadLength: config.maxFrameBytes * 2,
      maxBackpressure: config.maxBackpressureBytes,
      closeOnBackpressureLimit: false,
      idleTimeout: config.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => ws.getUserData().session.attach(ws),
      message: (ws, message, isBinary) => {
        const { session } = ws.getUserData();
        try {
          if (message.byteLength > config.maxFrameBytes)
            session.close(1009, 'frame too large', 'frame_too_large');
          else if (isBinary) session.onBinary();
          else session.onText(textDecoder.decode(message));
        } catch (error) {
          // Contain a bug to its own socket: 1011 = internal error (RFC 6455 §7.4.1).
          log.error(
            { cpId: session.cid, err: error instanceof Error ? error.stack : String(error) },
            'frame handler failed',
          );
          session.close(1011, 'internal error', 'internal_error');
        }
      },
      close: (ws, code) => ws.getUserData().session.onClosed(code),
    });
    // Anything that is not a WebSocket upgrade.
    this.app.any('/*', (res, req) => {
      const url = req.getUrl();
      const isOcppPath = url.startsWith(`${config.path}/`);
      res
        .writeStatus(isOcppPath ? '426 Upgrade Required' : '404 Not Found')
        .end(isOcppPath ? 'websocket_upgrade_required' : 'not_found');
    });
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    // Everything from `req` is read now: it is invalid after this callback returns.
    const url = req.getUrl();
    const protocolHeader = req.getHeader('sec-websocket-protocol');
    if (!this.accepting) {
      this.reject(res, 503, 'draining');
      return;
    }
    const verdict = checkHandshake(url, protocolHeader, this.config);
    if (!verdict.ok) {
      this.reject(res, verdict.status, verdict.reason);
      return;
    }
    const remoteAddress = textDecoder.decode(res.getRemoteAddressAsText());
    const session = new Session(
      verdict.cid,
      VERSIONS[verdict.subprotocol],
      remoteAddress,
      undefined,
      this.ctx,
    );
    this.metrics.upgrades.labels('accepted', '').inc();
    res.upgrade<SocketData>(
      { session },
      req.getHeader('sec-websocket-key'),
      verdict.echoProtocol ? verdict.subprotocol : '',
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  }

  private reject(res: HttpResponse, status: 400 | 404 | 503, reason: string): void {
    this.metrics.upgrades.labels('rejected', reason).inc();
    const line =
      status === 400 ? '400 Bad Request' : status === 404 ? '404 Not Found' : '503 Service Unavailable';
    res.writeStatus(line).writeHeader('Content-Type', 'text/plain').end(reason);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      listenExclusive(this.uws, this.app, host, port, (socket) => {
        if (socket === false) {
          reject(new ListenError('OCPP WebSocket listener', port));
          return;
        }
        this.listenSocket = socket;
        const bound = this.uws.us_socket_local_port(socket);
        this.log.info({ host, port: bound, path: this.config.path }, 'OCPP WebSocket listener open');
        resolve(bound);
      });
    });
  }

  /** Stops accepting (new upgrades get 503) and closes the listen socket; open sockets stay. */
  stopListening(): void {
    this.accepting = false;
    if (this.listenSocket !== undefined) {
      this.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
  }

  /** Last resort after drain: uWS `close()` ends whatever is left without close codes. */
  closeAll(): void {
    this.app.close();
  }
}

export type { WebSocket };
