import { Session } from 'node:inspector';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Logger } from '../observability/logger.js';

/** What the settle reads of V8's heap (v8.getHeapStatistics, and `new_space` of getHeapSpaceStatistics). */
export interface HeapReading {
  /** Heap bytes committed: what the heap holds of the process's memory. */
  readonly committed: number;
  /** Bytes allocated in the young generation since the last scavenge emptied it. */
  readonly youngUsed: number;
  /** What the young generation takes before its next scavenge (used + available). */
  readonly youngCapacity: number;
}

export function readHeap(): HeapReading {
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  const youngUsed = young?.space_used_size ?? 0;
  return {
    committed: getHeapStatistics().total_heap_size,
    youngUsed,
    youngCapacity: youngUsed + (young?.space_available_size ?? 0),
  };
}

/**
 * Bytes allocated between two readings, at least: new objects go to the young generation, which a
 * scavenge empties (its used size falls), so across one the count is what filled it plus what is
 * in it now.
 */
export function allocatedBetween(last: HeapReading, now: HeapReading): number {
  if (now.youngUsed >= last.youngUsed) return now.youngUsed - last.youngUsed;
  return Math.max(0, last.youngCapacity - last.youngUsed) + now.youngUsed;
}

/**
 * One full, compacting collection through the process's own inspector session: the same request
 * DevTools sends (`HeapProfiler.collectGarbage`), needing no `--expose-gc` flag.
 */
export function inspectorCollect(): Promise<void> {
  const session = new Session();
  session.connect();
  return new Promise<void>((resolve, reject) => {
    session.post('HeapProfiler.collectGarbage', (error) => {
      // Not from inside the inspector's own callback: Node 20 never returns from that disconnect.
      setImmediate(() => session.disconnect());
      if (error === null) resolve();
      else reject(error);
    });
  });
}

/** Below this many bytes allocated per second a process is idle (V8's own "low allocation throughput", 1 MB/s). */
export const QUIET_BYTES_PER_S = 1_000_000;
/** Heap committed this far beyond what the last collection left committed: worth collecting. */
export const GROWN_BYTES = 8 * 1024 * 1024;

/**
 * Gives back the heap a burst left behind, once the node goes quiet (docs/architecture.md §6.8).
 * A connection burst (a fleet booting, a reconnect storm) leaves V8's heap grown with what the
 * handshakes allocated: at 19,000 booted stations about 1.8 KiB per station of heap, half of it
 * garbage that no collection has come for. V8 collects when allocation fills a space, so a node
 * whose stations then sit idle keeps it: more than all the sessions hold. Once the node has
 * allocated less than 1 MB/s for `quietS` seconds in a row while its heap is committed
 * GROWN_BYTES beyond what the last collection left, one full collection returns it (the first
 * quiet spell after start-up collects what loading the schemas and modules left). A busy node
 * never qualifies (V8 collects on its own), and a heap V8 kept committed is not collected again
 * until it grows GROWN_BYTES more.
 */
export class HeapSettle {
  private timer: NodeJS.Timeout | undefined;
  private last: HeapReading | undefined;
  private quietPolls = 0;
  /** Heap committed after the last collection; 0 before the first (start-up leaves garbage too). */
  private floor = 0;
  private collecting = false;

  constructor(
    /** Seconds of quiet before collecting; polled once a second. */
    private readonly quietS: number,
    private readonly log: Logger,
    private readonly read: () => HeapReading = readHeap,
    private readonly collect: () => Promise<void> = inspectorCollect,
  ) {}

  start(): void {
    if (this.timer !== undefined || this.quietS <= 0) return;
    this.timer = setInterval(() => void this.poll(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll, a second after the last; public for tests, which call it instead of waiting. */
  async poll(): Promise<void> {
    if (this.collecting) return;
    const now = this.read();
    const last = this.last;
    this.last = now;
    const quiet = last !== undefined && allocatedBetween(last, now) < QUIET_BYTES_PER_S;
    this.quietPolls = quiet ? this.quietPolls + 1 : 0;
    if (now.committed < this.floor) this.floor = now.committed;
    if (this.quietPolls < this.quietS || now.committed - this.floor < GROWN_BYTES) return;
    this.collecting = true;
    const started = performance.now();
    try {
      await this.collect();
      const after = this.read();
      this.floor = after.committed;
      const ms = Math.round(performance.now() - started);
      this.log.info({ committedBefore: now.committed, committedAfter: after.committed, ms }, 'heap settled');
    } catch (err) {
      // Without the inspector (a Node built without it) the settle has nothing to do.
      this.log.warn({ err }, 'heap settle failed; not tried again');
      this.stop();
    } finally {
      this.collecting = false;
      this.quietPolls = 0;
      this.last = undefined;
    }
  }
}
