import type { CredentialRecord } from './record.js';

/**
 * Where station credential records live: a file (single node) or the cluster's Redis. Reads may
 * be asynchronous; the authenticator caches what it verified, so a store is not asked on every
 * reconnect of a reconnect storm.
 */
export interface CredentialStore {
  readonly kind: 'file' | 'redis';
  get(cid: string): Promise<CredentialRecord | undefined>;
  put(cid: string, record: CredentialRecord): Promise<void>;
  /** False when there was no record. */
  delete(cid: string): Promise<boolean>;
  /**
   * Read-modify-write of one record; `change` returns the new record, or undefined to leave it.
   * Used for rotation and profile changes the gateway makes itself.
   */
  update(
    cid: string,
    change: (current: CredentialRecord | undefined) => CredentialRecord | undefined,
  ): Promise<CredentialRecord | undefined>;
  close(): Promise<void>;
}
