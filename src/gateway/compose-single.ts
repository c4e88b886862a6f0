import { CommandRouter } from '../cluster/command-router.js';
import { OwnerDelivery } from '../cluster/owner-delivery.js';
import type { Config } from '../config/index.js';
import type { SessionTable } from '../edge/session/session-table.js';
import type { Logger } from '../observability/logger.js';
import type { Composition } from './composition.js';
import type { MqttSide } from './mqtt-side.js';

/**
 * Single-node mode (docs/architecture.md §1.2): every charge point is local or offline, so the
 * router needs only the session table; no registry (nothing would read it), no route bus, no
 * written-marks and no adoption.
 */
export function composeSingle(
  config: Config,
  mqtt: MqttSide,
  sessions: SessionTable,
  log: Logger,
): Composition {
  const owner = new OwnerDelivery(mqtt.publisher);
  const router = new CommandRouter({
    nodeId: config.nodeId,
    local: sessions,
    owner,
    publisher: mqtt.publisher,
    cluster: undefined,
    log,
  });
  return { router, redis: undefined, cluster: undefined, adopter: undefined };
}
