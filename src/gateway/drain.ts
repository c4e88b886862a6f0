import type { SessionTable } from '../edge/session/session-table.js';
import { setTimeout as sleep } from 'node:timers/promises';

const TICK_MS = 100;

/**
 * Closes every session with 1012 "service restart" (RFC 6455 §7.4.1, registered code) spread
 * over `windowMs`, so a fleet of charge points does not reconnect to the other nodes at once.
 */
export async function drainSessions(sessions: SessionTable, windowMs: number): Promise<void> {
  const total = sessions.size;
  const ticks = Math.max(1, Math.floor(windowMs / TICK_MS));
  const perTick = Math.max(1, Math.ceil(total / ticks));
  while (sessions.size > 0) {
    let closed = 0;
    for (const session of sessions.values()) {
      if (closed >= perTick) break;
      session.close(1012, 'service restart', 'shutdown');
      closed += 1;
    }
    if (sessions.size > 0) await sleep(TICK_MS);
  }
}
