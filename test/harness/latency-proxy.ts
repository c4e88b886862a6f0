import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that delays every chunk, each way, by `delayMs`: a broker as far
 * away as one in another zone, without touching the broker. Order is kept (timers of the same
 * delay fire in the order they were set).
 */
export class LatencyProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(targetPort: number, delayMs: number): Promise<LatencyProxy> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      const pairs = [
        [client, upstream],
        [upstream, client],
      ] as const;
      for (const [from, to] of pairs) {
        sockets.add(from);
        from.setNoDelay(true);
        from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
        from.on('close', () => {
          sockets.delete(from);
          setTimeout(() => to.destroy(), delayMs);
        });
        from.on('error', () => from.destroy());
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    return new LatencyProxy(server, sockets, address.port);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
