import { Gauge, type Counter, type Registry } from 'prom-client';
import { OcppError } from '../ocpp/ocpp-error.js';

/** What holds a share: a session counts its own publishes that the broker has not settled. */
export interface ShareHolder {
  pendingPublishes: number;
}

/** Gives one place of a share back; runs once per place, whatever the publish's outcome. */
export type ShareRelease = () => void;

/**
 * Each socket's share of the node's single MQTT publish backlog (src/bridge/publish-flow.ts):
 * how many of its publishes may wait for the broker at once. One station sending CALLs faster
 * than the broker settles them would otherwise fill the backlog, and every other station's CALL
 * would wait behind it and then be answered InternalError.
 *
 * uWS.js v20 (uws-pack 20.0.8) has no way to stop reading one WebSocket (its `pause`/`resume`
 * exist on HttpResponse only), so a socket over its share is not paused: each CALL it sends
 * beyond the share is answered at once with a CALLERROR and not published (inbound.ts), which
 * keeps the memory it can take bounded as well. The per-connection rate limit (admission.ts)
 * closes a socket that goes on.
 */
export class PublishShare {
  private readonly over: Gauge;

  constructor(
    readonly limit: number,
    private readonly refused: Counter<'limit'>,
    registry: Registry,
  ) {
    this.over = new Gauge({
      name: 'ocpp_gateway_sockets_over_publish_share',
      help: 'Sockets whose publishes waiting for the broker are at their share (OCPP_GW_MAX_PENDING_PUBLISHES_PER_CONNECTION); their further CALLs are refused',
      registers: [registry],
    });
  }

  /**
   * Takes a place for one publish; undefined when the holder's share is used up (counted as a
   * refusal under `publish_share`). `force`: a place even past the share, for a frame that must
   * be published (an answer that ends a downstream CALL: at most one per socket is outstanding).
   */
  take(holder: ShareHolder, force = false): ShareRelease | undefined {
    if (holder.pendingPublishes >= this.limit && !force) {
      this.refused.labels('publish_share').inc();
      return undefined;
    }
    holder.pendingPublishes += 1;
    if (holder.pendingPublishes === this.limit) this.over.inc();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (holder.pendingPublishes === this.limit) this.over.dec();
      holder.pendingPublishes -= 1;
    };
  }
}

/**
 * A place in a socket's share for one publish, or undefined when it is used up. An answer that
 * ends a downstream CALL always gets one (`mustPublish`): at most one is outstanding per socket,
 * and the backend waits for it. An answer that ends none, over the share, is not published
 * (counted under `publish_share`): no command waits for it, and it cannot be answered
 * (OCPP-J 1.6 §4.2.3: a CALLERROR answers a CALL).
 */
export function takeShare(
  holder: ShareHolder & { readonly share?: PublishShare | undefined },
  mustPublish: boolean,
): ShareRelease | undefined {
  if (holder.share === undefined) return noRelease;
  return holder.share.take(holder, mustPublish);
}

function noRelease(): void {}

/** A CALL over its socket's share: not published; the CP may send it again later. */
export const OVER_SHARE = new OcppError(
  'generic',
  'too many messages of this connection waiting for the backend',
  {
    reason: 'publish_share',
  },
);
