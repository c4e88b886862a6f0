/**
 * Memory-bench load generator (one of several processes): opens its share of connections, boots
 * each CP, reports, then holds the sockets open and idle until the parent says `close`.
 *
 * Environment (set by bench/memory.ts): SWARM_BASE_URL, SWARM_ID_PREFIX, SWARM_COUNT,
 * SWARM_RATE_PER_S, SWARM_MAX_PENDING, SWARM_DEADLINE_MS.
 */
import { connectAndBoot, swarmOptionsFromEnv } from '../lib/cp-swarm.js';
import { emit, emptyBootCounts, onParentCommand } from '../lib/swarm-protocol.js';

const counts = emptyBootCounts();
const { cps, elapsedMs } = await connectAndBoot(swarmOptionsFromEnv(), counts);
emit({ type: 'boot-done', ...counts, elapsedMs });

onParentCommand((command) => {
  if (command.cmd !== 'close') return;
  // Report what the server closed while we idled, before our own closes are counted.
  emit({ type: 'closed', closedAfterOpen: counts.closedAfterOpen });
  for (const cp of cps) cp.socket.terminate();
  process.exit(0);
});
