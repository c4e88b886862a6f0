import type { DownstreamMessage } from '../bridge/envelope.js';
import type { UpstreamPublisher } from '../bridge/upstream-publisher.js';
import type { GatewayReason } from '../ocpp/error-codes.js';

/** A session that can take a downstream message (implemented by edge/Session). */
export interface Deliverable {
  deliver(message: DownstreamMessage): void;
}

export interface LocalSessions {
  lookup(cid: string): Deliverable | undefined;
}

/**
 * Routes each downstream command to the session that owns the charge point. Single-node mode
 * knows only local sessions: anything else is offline and answered at once (DESIGN §3).
 * Cluster mode (DESIGN §4) adds the registry lookup and the route bus behind the same call.
 */
export class CommandRouter {
  constructor(
    private readonly local: LocalSessions,
    private readonly publisher: UpstreamPublisher,
  ) {}

  route(cid: string, message: DownstreamMessage): void {
    const session = this.local.lookup(cid);
    if (session !== undefined) {
      session.deliver(message);
      return;
    }
    this.undeliverable(cid, message, 'offline');
  }

  undeliverable(cid: string, message: DownstreamMessage, reason: GatewayReason): void {
    const action = message.type === 2 ? message.action : undefined;
    this.publisher.undelivered(cid, message.type, message.uniqueId, action, reason);
  }
}
