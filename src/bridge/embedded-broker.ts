import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { ListenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/** Who may connect to the embedded broker; undefined lets anyone in (loopback only, see config). */
export interface BrokerCredentials {
  readonly username: string;
  readonly password: string;
}

/** CONNACK return code 4, "bad user name or password" [MQTT-3.2.2.3]. */
const BAD_USERNAME_OR_PASSWORD = 4;

function digest(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Constant-time in the secret: both sides are hashed to the same length first, so neither the
 * comparison nor an early length mismatch tells a guesser how close it came.
 */
function matches(
  expected: BrokerCredentials,
  user: string | undefined,
  password: Buffer | undefined,
): boolean {
  const userOk = timingSafeEqual(digest(expected.username), digest(user ?? ''));
  const passwordOk = timingSafeEqual(digest(expected.password), digest(password ?? Buffer.alloc(0)));
  return userOk && passwordOk && user !== undefined && password !== undefined;
}

/**
 * The single-node broker (docs/architecture.md §4.6): aedes on a TCP port, so a backend or MQTTX can connect to
 * the gateway machine directly, as with EMQX. aedes speaks MQTT 3.1.1 only: no shared
 * subscriptions and no user properties; the gateway's own client connects to it with 3.1.1.
 * With credentials, a client without them gets CONNACK 4 and is disconnected before it can
 * read or publish anything.
 */
export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
    /** The address the listener is bound to, as the OS reports it. */
    readonly host: string,
  ) {}

  static async start(
    host: string,
    port: number,
    log: Logger,
    credentials?: BrokerCredentials,
  ): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker(
      credentials === undefined
        ? {}
        : {
            authenticate: (client, user, password, done) => {
              if (matches(credentials, user, password)) {
                done(null, true);
                return;
              }
              log.warn({ clientId: client.id }, 'embedded MQTT broker refused a client');
              const error: AuthenticateError = Object.assign(new Error('bad user name or password'), {
                returnCode: BAD_USERNAME_OR_PASSWORD,
              });
              done(error, false);
            },
          },
    );
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError('embedded MQTT broker', port, error)));
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    const boundHost = typeof address === 'object' && address !== null ? address.address : host;
    log.info(
      { host: boundHost, port: bound, authenticated: credentials !== undefined },
      'embedded MQTT broker listening (MQTT 3.1.1)',
    );
    return new EmbeddedBroker(broker, server, bound, boundHost);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Clients that stay connected would hold the server open; aedes.close() ends them.
    });
  }
}
