import { hashSecret, type StoredSecret } from './secret.js';

export type SecurityProfile = 1 | 2 | 3;

/**
 * A station's credential record, the same in every store (file, Redis): its secret hash(es), its
 * security profile and timestamps. Two secrets during a rotation: the old one until the station
 * first connects with the new one (the last entry), never the secret itself.
 */
export interface CredentialRecord {
  readonly v: 1;
  readonly profile: SecurityProfile;
  readonly secrets: readonly StoredSecret[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function isProfile(value: unknown): value is SecurityProfile {
  return value === 1 || value === 2 || value === 3;
}

/** A record read from a store, checked field by field; undefined when it is not one. */
export function parseRecord(value: unknown): CredentialRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (r.v !== 1 || !isProfile(r.profile) || !Array.isArray(r.secrets)) return undefined;
  if (typeof r.createdAt !== 'string' || typeof r.updatedAt !== 'string') return undefined;
  const secrets = r.secrets.filter(
    (s): s is StoredSecret =>
      typeof s === 'object' &&
      s !== null &&
      typeof (s as StoredSecret).salt === 'string' &&
      typeof (s as StoredSecret).hash === 'string' &&
      typeof (s as StoredSecret).addedAt === 'string',
  );
  return {
    v: 1,
    profile: r.profile,
    secrets,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** A new record, or `previous` with its secret replaced (rotation by the operator: no overlap). */
export function setSecret(
  previous: CredentialRecord | undefined,
  secret: Buffer | undefined,
  profile: SecurityProfile | undefined,
  now: Date = new Date(),
): CredentialRecord {
  const at = now.toISOString();
  return {
    v: 1,
    profile: profile ?? previous?.profile ?? 1,
    secrets: secret === undefined ? (previous?.secrets ?? []) : [hashSecret(secret, now)],
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
  };
}

/** What `show` prints: profile and dates, never a hash. */
export function describeRecord(cid: string, record: CredentialRecord): Record<string, unknown> {
  return {
    cid,
    profile: record.profile,
    secrets: record.secrets.length,
    secretsAddedAt: record.secrets.map((s) => s.addedAt),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
