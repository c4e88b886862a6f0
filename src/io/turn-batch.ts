import { TUNING } from '../config/tuning.js';

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
  private held: readonly Corkable[] | undefined;
  /** When the sockets were corked (performance.now()). */
  private heldAt = 0;

  /**
   * `streams` names the sockets to hold now; an empty list (not connected) holds nothing.
   * `maxMs`: a hold this old is let go at the next write (TUNING.turnBatchMaxMs says why).
   */
  constructor(
    private readonly streams: () => readonly Corkable[],
    private readonly maxMs: number = TUNING.turnBatchMaxMs,
  ) {}

  hold(): void {
    const held = this.held;
    if (held !== undefined) {
      const now = performance.now();
      if (now - this.heldAt < this.maxMs) return;
      // A turn that lasts (a flood of socket events): what was held leaves now, the rest is held on.
      for (const stream of held) {
        stream.uncork();
        stream.cork();
      }
      this.heldAt = now;
      return;
    }
    const streams = this.streams();
    if (streams.length === 0) return;
    for (const stream of streams) stream.cork();
    this.held = streams;
    this.heldAt = performance.now();
    setImmediate(() => {
      this.held = undefined;
      for (const stream of streams) stream.uncork();
    });
  }
}
