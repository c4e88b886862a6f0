import type { Clock, TimerHandle } from '../../src/io/clock.js';

/**
 * A clock that moves only when told (`advance`), running the timers that fall due in order. It
 * counts live timers, so a test can end by asserting that nothing was left behind.
 */
export class FakeClock implements Clock {
  private time = 0;
  private readonly timers = new Map<TimerHandle, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.time + ms, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.delete(handle);
  }

  get liveTimers(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: [TimerHandle, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= until && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = until;
  }
}
