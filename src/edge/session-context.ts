import type { DownstreamMessage } from '../bridge/envelope.js';
import type { Settled, UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SchemaValidator } from '../ocpp/schema-validator.js';
import type { SessionTable } from './session-table.js';

/**
 * What every session of a node shares. Held once per node and referenced by each session, so a
 * session object carries only its own state (memory target: about 2 KiB per charge point).
 */
export interface SessionContext {
  readonly nodeId: string;
  readonly publisher: UpstreamPublisher;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly table: SessionTable;
  /** Set when upstream frames are schema-checked (`upstream` or `all`). */
  readonly upstreamSchema: SchemaValidator | undefined;
  /** Set when downstream messages are schema-checked (`downstream` or `all`). */
  readonly downstreamSchema: SchemaValidator | undefined;
  readonly maxQueueLength: number;
  /** OCPP_GW_MAX_FRAME_BYTES: the limit on frames read holds for frames written too. */
  readonly maxFrameBytes: number;
  readonly callTimeoutMs: number;
  readonly heartbeatIntervalS: number;
  /** A new session's ownership epoch (cluster/registry.ts `epochSource`). */
  readonly nextEpoch: () => string;
  /**
   * Routes a command again, as if it had just arrived from MQTT: how CALLs still waiting in a
   * replaced session reach the charge point's new session, on this node or another.
   */
  readonly reroute: (cid: string, message: DownstreamMessage, settled: Settled) => void;
}
