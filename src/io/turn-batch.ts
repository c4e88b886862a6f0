/** What can be held back: a net.Socket, a TLSSocket, any Node Writable. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Holds sockets corked until the end of the current event-loop turn (setImmediate), so every
 * write made while uWS delivers one read's worth of frames leaves in one syscall. Client
 * libraries cork only until `nextTick`, which uWS runs after each message callback: one syscall
 * per message. Measured: 29 % of a node's CPU in writev for MQTT publishes at 13k msg/s, and a
 * quarter of its CPU for Redis commands on the forwarded path (bench/RESULTS.md).
 */
export class TurnBatch {
  private holding = false;

  /** `streams` names the sockets to hold now; an empty list (not connected) holds nothing. */
  constructor(private readonly streams: () => readonly Corkable[]) {}

  hold(): void {
    if (this.holding) return;
    const streams = this.streams();
    if (streams.length === 0) return;
    for (const stream of streams) stream.cork();
    this.holding = true;
    setImmediate(() => {
      this.holding = false;
      for (const stream of streams) stream.uncork();
    });
  }
}
