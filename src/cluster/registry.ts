import { versionByProtoVer, type OcppVersion } from '../ocpp/versions/index.js';

/**
 * Charge-point ownership (docs/architecture.md §5.2): which node holds the socket of each charge point, and under
 * which session epoch. Redis in cluster mode, a Map in single-node mode; both behind this one
 * interface so the router and the session table do not know which.
 */

/** `{nodeId}|{epoch}` in Redis: the node and the session that owns a charge point. */
export interface Owner {
  readonly nodeId: string;
  readonly epoch: string;
}

/** A session this node holds, as re-asserted after Redis comes back. */
export interface Held {
  readonly cid: string;
  readonly epoch: string;
}

export interface OwnershipRegistry {
  /**
   * Records this node's session as the owner (newest wins). Resolves to the previous owner when
   * another node held it, so that node can be told to close its old socket (takeover).
   */
  claim(cid: string, epoch: string): Promise<Owner | undefined>;
  /**
   * Compare-and-delete: removes the entry only while it still names this node and `epoch`. Queued,
   * not sent at once (cluster/release-queue.ts); a failure leaves the entry to expire.
   */
  release(cid: string, epoch: string): void;
  /** Releases queued or unanswered: a draining node waits for none left before its `bye`. */
  readonly releasesPending: number;
  /** The live owner, or undefined: no entry, or an entry of a dead node (cleaned on the way). */
  lookup(cid: string): Promise<Owner | undefined>;
  /**
   * Writes back this node's entries where they are missing (Redis restarted empty) and refreshes
   * their TTL. Resolves to the charge points that another live node owns now: their local
   * sessions are older and must go.
   */
  reassert(held: readonly Held[]): Promise<string[]>;
}

export function formatOwner(nodeId: string, epoch: string): string {
  return `${nodeId}|${epoch}`;
}

export function parseOwner(value: string | null | undefined): Owner | undefined {
  if (value === null || value === undefined) return undefined;
  const bar = value.lastIndexOf('|');
  if (bar <= 0 || bar === value.length - 1) return undefined;
  return { nodeId: value.slice(0, bar), epoch: value.slice(bar + 1) };
}

/**
 * Session epochs: unique per node run and per session. Node ids may repeat across restarts, so
 * the start time is part of it; order does not matter, only inequality. The session's OCPP
 * version rides after `~`, so that a node that reads the owner entry of a charge point it does not
 * hold can still answer in that charge point's version (docs/architecture.md §5.2).
 */
export function epochSource(): { readonly run: string; readonly next: (protoVer: string) => string } {
  const run = Date.now().toString(36);
  let counter = 0;
  return {
    run,
    next: (protoVer) => {
      counter += 1;
      return `${run}.${counter.toString(36)}~${protoVer}`;
    },
  };
}

/** The version of a charge point another node holds, from its owner entry (none: not connected). */
export async function ownerVersion(
  registry: OwnershipRegistry,
  cid: string,
): Promise<OcppVersion | undefined> {
  const owner = await registry.lookup(cid);
  return owner === undefined ? undefined : versionByProtoVer(epochProtoVer(owner.epoch));
}

/** The OCPP version an epoch carries (`1.6`, `2.0.1`, ...); none from a node of an older build. */
export function epochProtoVer(epoch: string): string | undefined {
  const tilde = epoch.lastIndexOf('~');
  return tilde < 0 || tilde === epoch.length - 1 ? undefined : epoch.slice(tilde + 1);
}
