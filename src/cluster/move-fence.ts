import type { OrderMetrics } from '../observability/order-metrics.js';
import type { PendingForwards } from './pending-forwards.js';
import type { Owner } from './registry.js';
import type { Forwarded, Routed } from './router-types.js';
import type { StartMessage, StationOrder } from './station-order.js';

/**
 * Keeps a charge point's commands in order on the routing node when it moves (docs/architecture.md
 * §5.14). The line lets the next command go once the one before was published, which is safe
 * while both go to one owner: one route-bus channel keeps their order, and the owner refuses what
 * follows a command it refused (stale-lines.ts). After a move they would go to two owners, and a
 * command the old owner answers `stale` would be routed again behind its successor. So:
 * - a command bound for another owner (node or session epoch) than one of its charge point's
 *   pending forwards, or to be written here, waits until those forwards settle (outcome,
 *   `stale`, deadline or `node_lost`: each ends, so each fence opens);
 * - a command routed again takes back its arrival place in the line, and the one in progress
 *   gives way to it before it leaves;
 * - a command answered `stale` also waits until every forward of its charge point that arrived
 *   before it and was not answered `stale` yet has settled, even one to the same owner (one
 *   answered `stale` a second time is answered `offline`, never routed a third time). The owner
 *   answers `stale` in order, but each answer is its own route-bus publish, retried on its own
 *   timer while Redis refuses it (route-bus.ts `notifyUntil`): around a failover command 8's
 *   `stale` can arrive before command 7's, and 8, routed again at once, was written before 7 (the
 *   chaos run's order-keeping mode: 90 such reorders in 200,000 commands under Redis failovers).
 */
export class MoveFence {
  constructor(
    private readonly order: StationOrder<Routed>,
    private readonly pending: PendingForwards,
    private readonly restart: StartMessage<Routed>,
    private readonly metrics: OrderMetrics | undefined,
  ) {}

  /**
   * `undefined`: `item`, its line's head, may leave now for `owner` (`undefined`: to be written
   * here). Otherwise a promise that settles once it has given way or left after all.
   */
  check(cid: string, item: Routed, owner: Owner | undefined): Promise<void> | undefined {
    if (this.giveWay(cid, item)) return Promise.resolve();
    // Answered `stale`, it waits for the forwards of its charge point that came before it, wherever
    // they went, and may still come back `stale` to take their earlier place.
    const fenced = this.pending.fence(cid, owner, item.refused === true ? item.seq : undefined);
    if (fenced === undefined) return undefined;
    this.metrics?.fenced.inc();
    return fenced.then(() => (this.giveWay(cid, item) ? undefined : this.restart(cid, item)));
  }

  private giveWay(cid: string, item: Routed): boolean {
    if (!this.order.earlierWaiting(cid, item)) return false;
    this.order.requeue(cid, item);
    return true;
  }
}

/**
 * A forward routed again: the registry is asked, and it takes back its arrival place. `refused`:
 * because its owner answered `stale`.
 */
export const routedAgain = (entry: Forwarded, refused = false): Routed => ({
  message: entry.message,
  delivery: entry.delivery,
  retried: true,
  seq: entry.seq,
  refused: refused || entry.refused === true,
});
