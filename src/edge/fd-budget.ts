import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';

/**
 * Keeps the WebSocket port from spending the descriptors the rest of the process needs.
 *
 * Without it, at the soft RLIMIT_NOFILE every accept() fails with EMFILE: uSockets leaves the
 * listen socket readable and polls it again at once (a core spins), upgrades hang, and the
 * health port, MQTT and Redis reconnects cannot open a socket either. So, with `reserve`
 * descriptors set aside below the limit:
 * - `limit - reserve` (the cap): upgrades are refused with 503 `fd_limit`;
 * - `limit - reserve/2` (high-water): the listen socket closes, so the kernel refuses new TCP
 *   connections (connections that never upgrade would otherwise eat the rest of the reserve;
 *   uWS.js has no way to stop accepting other than closing the listen socket);
 * - back under `cap - reserve/4` (low-water): the listener reopens and upgrades are accepted.
 *   The gap keeps a node that hovers at the cap from flapping.
 *
 * Counting: every socket of the uWS app is counted as it opens and closes (uWS `filter` events
 * for HTTP connections, `close` for upgraded ones), so a socket costs an increment. The rest of
 * the process (HTTP port, MQTT, Redis, files) is recounted from /proc every few seconds and
 * before any state change, so a change is never made on a guess.
 */

export type FdState = 'open' | 'refusing' | 'paused';

export interface FdMarks {
  readonly limit: number;
  readonly cap: number;
  readonly highWater: number;
  readonly lowWater: number;
}

export function fdMarks(limit: number, reserve: number): FdMarks {
  const cap = limit - reserve;
  return { limit, cap, highWater: limit - Math.ceil(reserve / 2), lowWater: cap - Math.ceil(reserve / 4) };
}

/** The soft limit from /proc/self/limits (`Max open files <soft> <hard> files`); undefined if unlimited. */
export function parseSoftNofile(limits: string): number | undefined {
  const soft = /^Max open files\s+(\S+)\s+\S+/m.exec(limits)?.[1];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

export interface FdProbe {
  /** Soft descriptor limit; undefined when unknown (no /proc) or unlimited. */
  limit(): number | undefined;
  /** Descriptors open in the process now. */
  count(): number;
  /** Whether {@link count} is O(1); a listing costs ~1 ms per thousand descriptors. */
  readonly cheap: boolean;
}

/** Linux: since 6.2 `stat /proc/self/fd` reports the count as its size; older kernels list it. */
export function procFdProbe(): FdProbe {
  let cheap = false;
  try {
    cheap = statSync('/proc/self/fd').size > 0;
  } catch {
    // not Linux: limit() reports undefined and the budget stays off
  }
  return {
    cheap,
    limit: () => {
      try {
        return parseSoftNofile(readFileSync('/proc/self/limits', 'utf8'));
      } catch {
        return undefined;
      }
    },
    // The listing holds a descriptor of its own while it runs.
    count: () => (cheap ? statSync('/proc/self/fd').size : readdirSync('/proc/self/fd').length - 1),
  };
}

/** What the budget does to the listener: close it, and reopen it (false when that failed). */
export interface ListenerControl {
  pause(): void;
  resume(): boolean;
}

export class FdBudget {
  private state: FdState = 'open';
  private marks: FdMarks | undefined;
  private edgeSockets = 0;
  /** Descriptors not held by edge sockets, at the last count. */
  private others = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly reserve: number,
    private readonly listener: ListenerControl,
    private readonly log: Logger,
    private readonly probe: FdProbe = procFdProbe(),
  ) {}

  /** True while upgrades must be refused with 503 `fd_limit`. */
  get refusing(): boolean {
    return this.state !== 'open';
  }

  start(): void {
    const limit = this.probe.limit();
    if (limit === undefined) {
      this.log.info('descriptor limit unknown or unlimited: no descriptor budget');
      return;
    }
    this.marks = fdMarks(limit, this.reserve);
    this.recount();
    const { cap } = this.marks;
    this.log.info({ ...this.marks, reserve: this.reserve, open: this.others }, 'descriptor budget');
    if (this.others >= cap) {
      this.log.warn(
        { limit, reserve: this.reserve, open: this.others },
        'descriptor limit leaves no room for upgrades',
      );
    }
    this.timer = setInterval(() => this.recount(), this.probe.cheap ? 1000 : 5000);
    this.timer.unref();
  }

  /** Off for good (the node drains): the listener is not reopened any more. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.marks = undefined;
    this.state = 'open';
  }

  /** A socket of the uWS app opened (HTTP connection accepted). */
  socketOpened(): void {
    this.edgeSockets++;
    this.check();
  }

  /** A socket of the uWS app closed (before or after its upgrade). */
  socketClosed(): void {
    this.edgeSockets--;
    this.check();
  }

  private check(): void {
    if (this.marks === undefined) return;
    // Confirm with a real count before a change: the estimate may be a few seconds old.
    if (this.next(this.others + this.edgeSockets) !== this.state) this.recount();
  }

  private recount(): void {
    if (this.marks === undefined) return;
    let open: number;
    try {
      open = this.probe.count();
    } catch {
      open = this.marks.limit; // EMFILE while listing: as full as it gets
    }
    this.others = Math.max(0, open - this.edgeSockets);
    this.setState(this.next(open), open);
  }

  private next(open: number): FdState {
    const marks = this.marks;
    if (marks === undefined) return 'open';
    if (open >= marks.highWater) return 'paused';
    switch (this.state) {
      case 'open':
        return open >= marks.cap ? 'refusing' : 'open';
      case 'refusing':
      case 'paused':
        return open < marks.lowWater ? 'open' : this.state;
      default: {
        const unreachable: never = this.state;
        return unreachable;
      }
    }
  }

  private setState(next: FdState, open: number): void {
    const from = this.state;
    if (next === from) return;
    // A listener that cannot reopen stays paused; the next count tries again.
    if (from === 'paused' && !this.listener.resume()) return;
    if (next === 'paused') this.listener.pause();
    this.state = next;
    const fields = { from, to: next, open, ...this.marks, reserve: this.reserve };
    if (from === 'open') this.log.warn(fields, 'descriptor cap reached: upgrades refused with 503');
    if (next === 'paused') this.log.warn(fields, 'descriptor high-water mark: listener closed');
    if (next === 'open') this.log.info(fields, 'descriptors under the cap again: upgrades accepted');
  }
}
