/**
 * Time as the gateway's timers see it: `now()` in milliseconds (monotonic for the real clock) and
 * one-shot timers that never keep the process alive. Injected where a rule depends on time (the
 * call queue's answer timeout, the router's route timeout) so unit tests drive it with a fake
 * clock and check that no timer is left behind.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque: a Node.js Timeout for the real clock, whatever a fake clock returns. */
export type TimerHandle = object;

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
