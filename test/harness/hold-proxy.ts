import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a broker whose client-to-broker direction can be held: the
 * client keeps receiving, while what it sends (publishes, PUBACKs) waits in the proxy and never
 * reaches the broker if the connection is then {@link cut}. What a broker behind a slow or
 * breaking link sees of a node that has answered a command but not yet got the answer out.
 */
export class HoldProxy {
  private holding = false;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; held: Buffer[] }>();

  private readonly server: Server;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<HoldProxy> {
    const proxy = new HoldProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    return address.port;
  }

  private accept(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    const pair = { client, upstream, held: [] as Buffer[] };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (this.holding) pair.held.push(chunk);
      else if (!upstream.destroyed) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.destroyed || client.write(chunk));
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('close', close);
      socket.on('error', close);
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** From now on, what clients send waits here. */
  hold(): void {
    this.holding = true;
  }

  /**
   * Closes every connection, dropping what was held (the broker never sees it); connections made
   * afterwards pass everything.
   */
  cut(): void {
    this.holding = false;
    for (const { client, upstream, held } of [...this.pairs]) {
      held.length = 0;
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
