import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Station secrets: 1.6 `AuthorizationKey` (16-20 bytes, sent by stations either as the raw bytes
 * or as their hex text; OCPP 1.6 Security Whitepaper ed. 3 §2.4) and 2.0.1 `BasicAuthPassword`
 * (16-40 characters; OCPP 2.0.1 Part 2 A00.FR.205). Both are random, high-entropy keys, so one
 * salted HMAC-SHA-256 is the right hash: a slow password hash (bcrypt) buys nothing against a
 * 128-bit key and turns a reconnect storm into a CPU storm.
 */

/** One stored secret: the salt and HMAC-SHA-256(salt, canonical bytes), both base64. */
export interface StoredSecret {
  readonly salt: string;
  readonly hash: string;
  /** ISO 8601. */
  readonly addedAt: string;
}

const HEX_KEY = /^(?:[0-9a-fA-F]{2}){16,20}$/;

/**
 * The bytes a secret is hashed as: the hex text of a 16-20 byte key stands for the key itself,
 * so a station that sends the hex text and one that sends the raw bytes present the same secret.
 * Everything else (a 2.0.1 password, a raw key) is its bytes as sent.
 */
export function canonicalSecret(presented: Buffer): Buffer {
  const text = presented.toString('latin1');
  return HEX_KEY.test(text) ? Buffer.from(text, 'hex') : presented;
}

function digest(salt: Buffer, canonical: Buffer): Buffer {
  return createHmac('sha256', salt).update(canonical).digest();
}

export function hashSecret(presented: Buffer, now: Date = new Date()): StoredSecret {
  const salt = randomBytes(16);
  return {
    salt: salt.toString('base64'),
    hash: digest(salt, canonicalSecret(presented)).toString('base64'),
    addedAt: now.toISOString(),
  };
}

/**
 * Index of the stored secret `presented` matches, or -1. Every entry is computed and compared in
 * constant time, so the answer's timing says nothing about which entry (or how much) matched.
 */
export function matchSecret(secrets: readonly StoredSecret[], presented: Buffer): number {
  const canonical = canonicalSecret(presented);
  let found = -1;
  secrets.forEach((secret, index) => {
    const expected = Buffer.from(secret.hash, 'base64');
    const actual = digest(Buffer.from(secret.salt, 'base64'), canonical);
    if (expected.length === actual.length && timingSafeEqual(expected, actual) && found < 0) found = index;
  });
  return found;
}

/**
 * A 2.0.1-compatible password: 32 characters from a 64-symbol alphabet (192 bits), within the
 * 16-40 character bound, printable and safe in an Authorization header.
 */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Why a secret cannot be stored (undefined: it can): the bounds both versions share. */
export function secretProblem(secret: Buffer): string | undefined {
  if (secret.length < 16)
    return 'must be at least 16 bytes (OCPP 1.6 AuthorizationKey, 2.0.1 BasicAuthPassword)';
  if (secret.length > 40) return 'must be at most 40 bytes (2.0.1 BasicAuthPassword)';
  return undefined;
}
