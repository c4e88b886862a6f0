import type { Reader } from './env-reader.js';

/**
 * OCPP_GW_DOWNSTREAM_SUBSCRIBE (docs/architecture.md §5.14): `false` makes a cluster node hold
 * sockets and serve the route bus without taking commands from the shared subscription, so the
 * nodes that do subscribe are the only routing points. A single node must subscribe: nothing
 * else would take its commands.
 */
export function parseDownstreamSubscribe(r: Reader, clustered: boolean): boolean {
  const subscribe = r.bool('DOWNSTREAM_SUBSCRIBE', true);
  if (!subscribe && !clustered) {
    r.fail(
      'DOWNSTREAM_SUBSCRIBE',
      'false needs cluster mode (OCPP_GW_REDIS_URL or OCPP_GW_REDIS_CLUSTER_NODES): a single node must take commands',
    );
  }
  return subscribe;
}
