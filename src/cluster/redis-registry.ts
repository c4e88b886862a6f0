import type { ClusterConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { NodeDirectory } from './node-directory.js';
import type { RedisLink } from './redis-link.js';
import { withScripts, type ScriptedRedis } from './redis-scripts.js';
import { formatOwner, parseOwner, type Held, type Owner, type OwnershipRegistry } from './registry.js';
import { redisKeys } from './keys.js';
import { ReleaseQueue } from './release-queue.js';

/** Re-assert in slices so a node with 19,000 sockets does not flood Redis in one burst. */
const REASSERT_SLICE = 500;

/**
 * The Redis ownership registry (docs/architecture.md §5.2): `{prefix}:owner:{cid}` -> `{nodeId}|{epoch}`.
 * Entries carry a long TTL (`OCPP_GW_OWNER_TTL_S`) so charge points that never return do not
 * stay forever; the node re-asserts its entries periodically and whenever Redis comes back.
 * An entry naming a dead node is stale: lookups ignore it and compare-delete it.
 */
export class RedisRegistry implements OwnershipRegistry {
  private readonly redis: ScriptedRedis;
  private readonly ownerTtlMs: number;
  private readonly releases: ReleaseQueue;

  constructor(
    private readonly link: RedisLink,
    private readonly config: ClusterConfig,
    private readonly nodeId: string,
    private readonly directory: NodeDirectory,
    private readonly log: Logger,
  ) {
    this.redis = withScripts(link.cmd);
    this.ownerTtlMs = config.ownerTtlS * 1000;
    this.releases = new ReleaseQueue((key, owner) => this.redis.ocppRelease(key, owner), log);
  }

  private key(cid: string): string {
    return redisKeys.owner(this.config.prefix, cid);
  }

  async claim(cid: string, epoch: string): Promise<Owner | undefined> {
    const previous = parseOwner(
      await this.redis.ocppClaim(this.key(cid), formatOwner(this.nodeId, epoch), this.ownerTtlMs),
    );
    if (previous === undefined || previous.nodeId === this.nodeId) return undefined;
    return previous;
  }

  release(cid: string, epoch: string): void {
    this.releases.push(this.key(cid), formatOwner(this.nodeId, epoch));
  }

  get releasesPending(): number {
    return this.releases.pending;
  }

  async lookup(cid: string): Promise<Owner | undefined> {
    const owner = parseOwner(await this.link.cmd.get(this.key(cid)));
    if (owner === undefined) return undefined;
    if (await this.directory.isAlive(owner.nodeId)) return owner;
    // Right after Redis came back the owner may not have beaten yet: not stale, just unproven.
    // Route to it anyway; a PUBLISH that reaches nobody still ends as `offline`.
    if (this.directory.inGrace) return owner;
    // Stale: its node is dead. Clean it, unless it changed meanwhile (compare-and-delete).
    void this.redis.ocppRelease(this.key(cid), formatOwner(owner.nodeId, owner.epoch)).catch(() => undefined);
    return undefined;
  }

  async reassert(held: readonly Held[]): Promise<string[]> {
    const lostTo: string[] = [];
    for (let i = 0; i < held.length; i += REASSERT_SLICE) {
      const slice = held.slice(i, i + REASSERT_SLICE);
      const results = await Promise.all(
        slice.map(({ cid, epoch }) =>
          this.redis.ocppReassert(this.key(cid), formatOwner(this.nodeId, epoch), this.ownerTtlMs, ''),
        ),
      );
      for (const [j, current] of results.entries()) {
        const other = parseOwner(current);
        const entry = slice[j];
        if (other === undefined || entry === undefined) continue;
        if (other.nodeId !== this.nodeId && (await this.directory.isAlive(other.nodeId))) {
          lostTo.push(entry.cid);
          continue;
        }
        // Our own older epoch, or a dead node's entry: ours is the live socket.
        await this.redis.ocppReassert(
          this.key(entry.cid),
          formatOwner(this.nodeId, entry.epoch),
          this.ownerTtlMs,
          current ?? '',
        );
      }
    }
    this.log.debug({ held: held.length, lostTo: lostTo.length }, 'ownership re-asserted');
    return lostTo;
  }
}
