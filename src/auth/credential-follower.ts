import type { Logger } from '../observability/logger.js';
import type { JsonObject } from '../ocpp/frame.js';
import { CREDENTIAL_ACTIONS, credentialChanges, type CredentialChange } from './credential-change.js';
import type { CredentialRecord } from './record.js';
import { hashSecret } from './secret.js';
import type { CredentialStore } from './store.js';

/** A rotation keeps the secret in use and the new ones; more than this is a stuck rotation. */
const MAX_SECRETS = 3;

function apply(record: CredentialRecord, change: CredentialChange, now: Date): CredentialRecord {
  const updatedAt = now.toISOString();
  if (change.kind === 'secret') {
    // Old and new are both valid until the station first connects with the new one.
    const secrets = [...record.secrets, hashSecret(change.secret, now)].slice(-MAX_SECRETS);
    return { ...record, secrets, updatedAt };
  }
  // The profile only rises this way: a lower one would be a downgrade (1.6 Security
  // Whitepaper ed. 3 §3.3; 2.0.1 A05.FR.06).
  return change.profile > record.profile ? { ...record, profile: change.profile, updatedAt } : record;
}

/**
 * Follows the backend's credential changes: each accepted downstream CALL that changes a
 * station's secret or security profile (credential-change.ts) is written to the store. A station
 * without a record is left alone (it is not managed by this store).
 */
export class CredentialFollower {
  constructor(
    private readonly store: CredentialStore,
    private readonly invalidate: (cid: string) => void,
    private readonly log: Logger,
  ) {}

  /** The hook called for every answered downstream CALL; cheap for every other action. */
  answered(
    cid: string,
    subprotocol: string,
    action: string,
    request: JsonObject,
    response: JsonObject,
  ): void {
    if (!CREDENTIAL_ACTIONS.has(action)) return;
    const changes = credentialChanges(subprotocol, action, request, response);
    if (changes.length > 0) void this.follow(cid, changes);
  }

  async follow(cid: string, changes: readonly CredentialChange[]): Promise<void> {
    try {
      const now = new Date();
      const record = await this.store.update(cid, (current) =>
        current === undefined ? undefined : changes.reduce((r, change) => apply(r, change, now), current),
      );
      this.invalidate(cid);
      if (record === undefined)
        this.log.warn({ cpId: cid }, 'credential change for a station without a record; not stored');
      else
        this.log.info(
          { cpId: cid, changes: changes.map((c) => c.kind), profile: record.profile },
          'credential change stored',
        );
    } catch (error) {
      this.log.error(
        { err: error, cpId: cid },
        'credential change accepted by the station could not be stored',
      );
    }
  }
}
