import type { SessionTable } from './session-table.js';

/**
 * EMQX's heartbeat rule (docs/architecture.md §3.7): a charge point that sends no OCPP text for
 * `interval x backoff` seconds is closed. WebSocket ping/pong does not count, as in EMQX.
 * One sweep timer for the whole node instead of a timer per socket: 19,000 idle sessions cost
 * one comparison each per tick, and no timer objects.
 */
export class KeepaliveSweeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessions: SessionTable,
    private readonly backoff: number,
    private readonly tickMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(Date.now()), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sweep(now: number): void {
    for (const session of this.sessions.values()) {
      const intervalS = session.keepaliveS;
      // interval 0 disables the check (EMQX: `interval = 0` turns keepalive off).
      if (intervalS > 0 && now - session.lastReceivedAt >= intervalS * this.backoff * 1000) {
        session.close(1000, 'heartbeat timeout', 'keepalive_timeout');
      }
    }
  }
}
