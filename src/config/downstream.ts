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

/**
 * OCPP_GW_DRAIN_UNSUBSCRIBE (docs/architecture.md §5.14, §6.2): `false` makes a draining node keep
 * its downstream subscription and its MQTT session. It routes while its sockets drain, then takes
 * no new command and leaves the broker what it has not acknowledged; what is published while it
 * is away waits in its session for its return under the same node id, instead of reaching no
 * subscriber (MQTT 5 reason 0x10) when it is the only routing node. It needs a broker that
 * outlives the node and a session that outlives the connection.
 */
export function parseDrainUnsubscribe(r: Reader, externalBroker: boolean, sessionExpiryS: number): boolean {
  const unsubscribe = r.bool('DRAIN_UNSUBSCRIBE', true);
  if (unsubscribe) return true;
  if (!externalBroker)
    r.fail(
      'DRAIN_UNSUBSCRIBE',
      'false needs an external broker (OCPP_GW_MQTT_URL): the embedded one stops with the node',
    );
  if (sessionExpiryS === 0)
    r.fail(
      'DRAIN_UNSUBSCRIBE',
      'false needs OCPP_GW_MQTT_SESSION_EXPIRY_S above 0: a session that ends keeps nothing',
    );
  return false;
}
