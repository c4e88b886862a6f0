import { createServer } from 'node:net';
import type { TlsConfig } from '../config/index.js';
import { ListenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { readTlsPair, watchTlsFiles } from './tls-files.js';
import type { TlsMetrics } from './tls-metrics.js';
import type { AppOptions, TemplatedApp, Uws, us_listen_socket } from './uws.js';

/** Builds an SSLApp with the gateway's handlers registered on it. */
export type SecureAppFactory = (options: AppOptions) => TemplatedApp;

/**
 * The wss listener. uWS loads a certificate only when an SSLApp is built, so a reload builds a
 * new SSLApp with the same handlers, opens its listen socket on the same port beside the old one
 * (both SO_REUSEPORT, so there is no moment without a listener), then closes the old listen
 * socket only: connections the old app accepted stay open on it, new ones get the new
 * certificate. A pair that does not load is refused and the old one kept. Linux spreads new
 * connections over both sockets meanwhile, so one still in the old socket's accept queue when it
 * closes is reset: that client reconnects, as after any network blip.
 *
 * TLS 1.2 is the floor: uSockets builds every SSL context with a minimum of TLS 1.2 and offers no
 * option to lower it (a TLS 1.1 ClientHello gets a protocol_version alert). Session resumption
 * (tickets, TLS 1.2 and 1.3) is on by default in uSockets' BoringSSL; the ticket key belongs to
 * the SSL context, so tickets issued before a reload lead to one full handshake after it.
 */
export class TlsListener {
  private app: TemplatedApp | undefined;
  /** Apps replaced by a reload: kept, because their connections live in them. */
  private readonly retired: TemplatedApp[] = [];
  private listenSocket: us_listen_socket | undefined;
  private bound: { readonly host: string; readonly port: number } | undefined;
  private fingerprint = '';
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly uws: Uws,
    private readonly settings: TlsConfig,
    private readonly makeApp: SecureAppFactory,
    private readonly metrics: TlsMetrics,
    private readonly log: Logger,
  ) {}

  private options(): AppOptions {
    // SSL_MODE_RELEASE_BUFFERS: an idle connection keeps no read/write buffers (tens of KiB
    // each), which is most of a station's life.
    return {
      cert_file_name: this.settings.certFile,
      key_file_name: this.settings.keyFile,
      ssl_prefer_low_memory_usage: true,
    };
  }

  /** Opens the listener; resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const pair = readTlsPair(this.settings.certFile, this.settings.keyFile);
    const app = this.makeApp(this.options());
    const bound = await claimPort(host, port);
    const socket = this.open(app, host, bound);
    if (socket === false) throw new ListenError('OCPP wss listener', bound);
    this.app = app;
    this.listenSocket = socket;
    this.bound = { host, port: bound };
    this.fingerprint = pair.fingerprint;
    this.metrics.notAfter.set(pair.notAfterS);
    if (this.settings.watch) {
      this.stopWatching = watchTlsFiles(
        [this.settings.certFile, this.settings.keyFile],
        () => this.reload('file_change'),
        (error) => this.log.warn({ err: error }, 'TLS file watch failed; SIGHUP still reloads'),
      );
    }
    this.log.info({ host, port: bound, notAfter: new Date(pair.notAfterS * 1000) }, 'OCPP wss listener open');
    return bound;
  }

  /**
   * Serves the certificate and key the files hold now. A file event that changed neither is
   * ignored; SIGHUP reloads even then. Returns whether the listener serves the files' pair.
   */
  reload(trigger: 'signal' | 'file_change'): boolean {
    if (this.bound === undefined || this.app === undefined) return false;
    let next: TemplatedApp;
    let pair: ReturnType<typeof readTlsPair>;
    try {
      pair = readTlsPair(this.settings.certFile, this.settings.keyFile);
      if (trigger === 'file_change' && pair.fingerprint === this.fingerprint) return true;
      next = this.makeApp(this.options());
    } catch (error) {
      this.metrics.reloads.labels('failed').inc();
      this.log.error({ err: error, trigger }, 'TLS reload failed; still serving the previous certificate');
      return false;
    }
    if (this.listenSocket !== undefined) {
      const socket = this.open(next, this.bound.host, this.bound.port);
      if (socket === false) {
        next.close();
        this.metrics.reloads.labels('failed').inc();
        this.log.error({ trigger, port: this.bound.port }, 'TLS reload could not open the new listener');
        return false;
      }
      this.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = socket;
    }
    this.retired.push(this.app);
    this.app = next;
    this.fingerprint = pair.fingerprint;
    this.metrics.notAfter.set(pair.notAfterS);
    this.metrics.reloads.labels('ok').inc();
    this.log.info({ trigger, notAfter: new Date(pair.notAfterS * 1000) }, 'TLS certificate reloaded');
    return true;
  }

  private open(app: TemplatedApp, host: string, port: number): us_listen_socket | false {
    let socket: us_listen_socket | false = false;
    // LIBUS_LISTEN_DEFAULT sets SO_REUSEPORT, which the reload needs for its overlap; the
    // exclusivity the plain listener gets from LIBUS_LISTEN_EXCLUSIVE_PORT comes from
    // claimPort() here. Accepted sockets inherit SO_REUSEPORT, so the port can be reopened
    // while they stay connected (fd budget).
    app.listen(host, port, (s) => {
      socket = s;
    });
    return socket;
  }

  /** Closes the listen socket (descriptor budget); connections stay. */
  pause(): void {
    if (this.listenSocket === undefined) return;
    this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  /** Reopens the listen socket on its port; false when that fails (retried by the caller). */
  resume(): boolean {
    if (this.listenSocket !== undefined || this.bound === undefined || this.app === undefined) return true;
    const socket = this.open(this.app, this.bound.host, this.bound.port);
    if (socket === false) return false;
    this.listenSocket = socket;
    return true;
  }

  /** Stops accepting and watching; open connections stay (drain). */
  stop(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.pause();
    this.bound = undefined;
  }

  /** Ends every connection of every generation, without close codes (after drain). */
  closeAll(): void {
    this.stop();
    for (const app of [...this.retired.splice(0), this.app]) app?.close();
    this.app = undefined;
  }
}

/**
 * Fails like an exclusive listen when another process holds the port (Node's probe socket
 * conflicts with a listening SO_REUSEPORT socket too), and turns port 0 into a fixed port: uSockets
 * sets SO_REUSEPORT only on a non-zero port, and the reload needs it.
 */
async function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(new ListenError('OCPP wss listener', port, error)));
    probe.listen({ host, port, exclusive: true }, () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      probe.close(() => resolve(bound));
    });
  });
}
