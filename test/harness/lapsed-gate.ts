import { Registry } from 'prom-client';
import { LapseGate } from '../../src/cluster/lapse-gate.js';
import type { SelfLiveness } from '../../src/cluster/self-liveness.js';
import { createLogger } from '../../src/observability/logger.js';
import { PartitionMetrics } from '../../src/observability/partition-metrics.js';

/**
 * A real lapse gate of a node whose liveness has lapsed (docs/architecture.md §5.13); no beat is
 * confirmed until `back()` ends the lapse, as a beat acknowledged again would.
 */
export function lapsedGate(nodeId: string): { gate: LapseGate; back: () => void } {
  let onBack: () => void = () => undefined;
  const liveness = {
    lapsed: true,
    onBack: (handler: () => void) => (onBack = handler),
    confirmed: () => new Promise<void>(() => undefined),
  } as unknown as SelfLiveness;
  const log = createLogger({ logLevel: 'silent', nodeId });
  const gate = new LapseGate(liveness, 60_000, new PartitionMetrics(new Registry()), log);
  const back = (): void => {
    (liveness as { lapsed: boolean }).lapsed = false;
    onBack();
  };
  return { gate, back };
}
