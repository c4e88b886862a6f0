import type { Owner } from './registry.js';

interface Cached {
  readonly owner: Owner;
  readonly until: number;
}

/**
 * A routing node's short memory of where charge points live, so a stream of commands to one
 * charge point does not ask Redis before each (one round trip and one Redis command fewer per
 * forwarded command). Being wrong costs one extra hop, never a wrong delivery: the owner checks
 * the session epoch and answers `stale`, a node that is gone has no subscriber (PUBLISH reaches
 * 0), and either way the router asks the registry itself before it gives up (command-router.ts).
 */
export class OwnerCache {
  /** Insertion-ordered, so the oldest entry is the first one: bounded without a timer. */
  private readonly entries = new Map<string, Cached>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(cid: string): Owner | undefined {
    const cached = this.entries.get(cid);
    if (cached === undefined) return undefined;
    if (cached.until > this.now()) return cached.owner;
    this.entries.delete(cid);
    return undefined;
  }

  set(cid: string, owner: Owner): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(cid);
    this.entries.set(cid, { owner, until: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  forget(cid: string): void {
    this.entries.delete(cid);
  }

  /** A node died or left: nothing it owned is reachable there any more. */
  forgetNode(nodeId: string): void {
    for (const [cid, cached] of this.entries) {
      if (cached.owner.nodeId === nodeId) this.entries.delete(cid);
    }
  }
}
