import type { Cluster, Redis } from 'ioredis';
import { parseRecord, type CredentialRecord } from './record.js';
import type { CredentialStore } from './store.js';

/**
 * The cluster's credential store: one JSON record per station under the cluster key prefix
 * (`{prefix}:cred:{cid}`), so every node, and the CLI, sees the same records. The client is the
 * node's command connection (or the CLI's); closing it is its owner's business.
 */
export class RedisStore implements CredentialStore {
  readonly kind = 'redis';

  constructor(
    private readonly client: Redis | Cluster,
    /** The record's key, `{prefix}:cred:{cid}` (cluster/keys.ts). */
    private readonly key: (cid: string) => string,
  ) {}

  async get(cid: string): Promise<CredentialRecord | undefined> {
    const text = await this.client.get(this.key(cid));
    if (text === null) return undefined;
    try {
      return parseRecord(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  async put(cid: string, record: CredentialRecord): Promise<void> {
    await this.client.set(this.key(cid), JSON.stringify(record));
  }

  async delete(cid: string): Promise<boolean> {
    return (await this.client.del(this.key(cid))) > 0;
  }

  /**
   * Read, change, write. Not a transaction: the gateway's own changes to one station (a rotation
   * step, a profile rise) follow that station's answers, one at a time, and an operator's `set`
   * is meant to win anyway.
   */
  async update(
    cid: string,
    change: (current: CredentialRecord | undefined) => CredentialRecord | undefined,
  ): Promise<CredentialRecord | undefined> {
    const current = await this.get(cid);
    const next = change(current);
    if (next === undefined) return current;
    await this.put(cid, next);
    return next;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
