import type { Held, Owner, OwnershipRegistry } from './registry.js';

/**
 * Single-node mode's registry (DESIGN §1): the same contract as the Redis one, in a Map. Only
 * this node exists, so there is never a previous owner elsewhere and nothing to re-assert.
 */
export class MemoryRegistry implements OwnershipRegistry {
  private readonly owners = new Map<string, string>();

  constructor(private readonly nodeId: string) {}

  claim(cid: string, epoch: string): Promise<Owner | undefined> {
    this.owners.set(cid, epoch);
    return Promise.resolve(undefined);
  }

  release(cid: string, epoch: string): Promise<void> {
    if (this.owners.get(cid) === epoch) this.owners.delete(cid);
    return Promise.resolve();
  }

  lookup(cid: string): Promise<Owner | undefined> {
    const epoch = this.owners.get(cid);
    return Promise.resolve(epoch === undefined ? undefined : { nodeId: this.nodeId, epoch });
  }

  reassert(held: readonly Held[]): Promise<string[]> {
    for (const { cid, epoch } of held) this.owners.set(cid, epoch);
    return Promise.resolve([]);
  }

  get size(): number {
    return this.owners.size;
  }
}
