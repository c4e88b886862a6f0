import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { ListenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * The single-node broker (docs/architecture.md §4.6): aedes on a TCP port, so a backend or MQTTX can connect to
 * the gateway machine directly, as with EMQX. aedes speaks MQTT 3.1.1 only: no shared
 * subscriptions and no user properties; the gateway's own client connects to it with 3.1.1.
 */
export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(host: string, port: number, log: Logger): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError('embedded MQTT broker', port, error)));
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    log.info({ host, port: bound }, 'embedded MQTT broker listening (MQTT 3.1.1)');
    return new EmbeddedBroker(broker, server, bound);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Clients that stay connected would hold the server open; aedes.close() ends them.
    });
  }
}
