/**
 * Source ports for one load generator's sockets on its own 127.0.0.x address, handed out in turn.
 *
 * Why not port 0 (the kernel's choice): binding a socket to an address with port 0 makes Linux
 * search the port range for a free one (`inet_csk_get_port`), checking the bind buckets of every
 * port it tries. With some 57,000 sockets of six generators over the range, that search took
 * milliseconds per socket: a generator re-opening its 3,167 dropped stations at once sat in
 * `bind()` for 33-49 s (`perf`: 65 % of its CPU in `inet_csk_get_port` during the storm), answering
 * none of its other stations' commands meanwhile, which the gateway then reported as `timeout`
 * (bench/RESULTS.md "Reconnect storm: the slow storm commands were the load generator's `bind()`").
 * A port picked here costs the kernel one bucket lookup.
 *
 * The range sits below Linux's default ephemeral range (32768-60999), so the kernel's own picks
 * for other sockets do not land on it; each generator has its own address, so generators do not
 * collide with each other. A port is free again when its socket closes (the kernel lets a
 * `SO_REUSEADDR` socket, as libuv binds them, reuse a port whose old connection is in TIME_WAIT).
 */
export class SourcePorts {
  private readonly inUse = new Set<number>();
  private next: number;

  constructor(
    private readonly low = 10_000,
    private readonly high = 32_767,
  ) {
    if (!(Number.isInteger(low) && Number.isInteger(high) && low > 0 && high <= 65_535 && low <= high))
      throw new RangeError(`source port range ${low}-${high}`);
    this.next = low;
  }

  /** Ports held by open sockets of this process. */
  get size(): number {
    return this.inUse.size;
  }

  /** The next port no open socket of this process holds; undefined when every one is held. */
  take(): number | undefined {
    const span = this.high - this.low + 1;
    for (let tried = 0; tried < span; tried++) {
      const port = this.next;
      this.next = port === this.high ? this.low : port + 1;
      if (!this.inUse.has(port)) {
        this.inUse.add(port);
        return port;
      }
    }
    return undefined;
  }

  /** The socket holding `port` closed. */
  give(port: number): void {
    this.inUse.delete(port);
  }
}

/** A bind or connect that failed on the port itself: worth another port, not a station failure. */
export function isPortError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL';
}
