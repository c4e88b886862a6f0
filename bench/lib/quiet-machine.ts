import { machineBusySeconds } from './proc-stats.js';
import { sleep } from '../../test/harness/time.js';

/**
 * Waits (at most `maxWaitMs`) for a second in which the machine's busy CPU stays under
 * `maxBusyCores`, so a run does not start in the middle of someone else's build on a shared
 * 2-core box. Returns the busy cores seen in the last second; the caller records it.
 */
export async function waitForQuietMachine(maxWaitMs = 60_000, maxBusyCores = 0.3): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const before = machineBusySeconds();
    const at = performance.now();
    await sleep(1000);
    const busyCores = (machineBusySeconds() - before) / ((performance.now() - at) / 1000);
    if (busyCores < maxBusyCores || performance.now() >= deadline) return busyCores;
  }
}
