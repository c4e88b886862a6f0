/**
 * Every Redis key and pub/sub channel the cluster uses, built in one place from the configured
 * prefix (`OCPP_GW_REDIS_PREFIX`, docs/architecture.md §5.1). A prefix holding `{...}` makes them
 * one Redis Cluster hash slot.
 */
export const redisKeys = {
  /** Owner of a charge point: `{nodeId}|{epoch}` (docs/architecture.md §5.2). */
  owner: (prefix: string, cid: string): string => `${prefix}:owner:${cid}`,
  /** A node's liveness entry, refreshed every heartbeat (§5.3). */
  node: (prefix: string, nodeId: string): string => `${prefix}:node:${nodeId}`,
  /** Registered nodes and their MQTT client ids (§5.3). */
  nodes: (prefix: string): string => `${prefix}:nodes`,
  /** A node's route-bus channel (§5.4). */
  route: (prefix: string, nodeId: string): string => `${prefix}:route:${nodeId}`,
  /**
   * Written-mark of a downstream CALL (§5.7). `{cid}` is a Redis Cluster hash tag: one station's
   * marks share a slot, so their takes run on one connection in the order sent and the owner
   * writes the station's commands in arrival order (§5.14); on different shards a later
   * command's take could come back first and be written first.
   */
  sent: (prefix: string, cid: string, uniqueId: string): string => `${prefix}:sent:{${cid}}:${uniqueId}`,
  /** Lock on adopting a dead node's MQTT session (§5.8). */
  adopt: (prefix: string, deadNode: string): string => `${prefix}:adopt:${deadNode}`,
  /** A station's credential record (src/auth/redis-store.ts). */
  credential: (prefix: string, cid: string): string => `${prefix}:cred:${cid}`,
} as const;
