import type { ClusterNode } from '../cluster/cluster-node.js';
import type { CommandRouter } from '../cluster/command-router.js';
import type { RedisLink } from '../cluster/redis-link.js';
import type { SessionAdopter } from '../cluster/session-adopter.js';

/** What a mode's composition hands to the node lifecycle (gateway.ts). */
export interface Composition {
  readonly router: CommandRouter;
  /** Cluster mode only. */
  readonly redis: RedisLink | undefined;
  readonly cluster: ClusterNode | undefined;
  /** Cluster mode with session adoption on and an external broker. */
  readonly adopter: SessionAdopter | undefined;
}
