import type { Registry } from 'prom-client';
import { redisKeys } from '../cluster/keys.js';
import type { RedisLink } from '../cluster/redis-link.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { AuthMetrics } from '../auth/auth-metrics.js';
import { Authenticator, type CredentialSource } from '../auth/authenticator.js';
import { CredentialFollower } from '../auth/credential-follower.js';
import { FileStore } from '../auth/file-store.js';
import { HttpVerifier } from '../auth/http-verifier.js';
import { RedisStore } from '../auth/redis-store.js';
import type { CredentialStore } from '../auth/store.js';

export interface AuthSide {
  readonly authenticator: Authenticator;
  /** Undefined without a store the gateway can write (mode none, the webhook). */
  readonly follower: CredentialFollower | undefined;
  readonly store: CredentialStore | undefined;
  close(): Promise<void>;
}

/**
 * The credential store a configuration names, as the CLI and the admin API open it too: the
 * cluster's Redis in cluster mode, else OCPP_GW_AUTH_FILE. Undefined when there is none.
 */
export async function openStore(
  config: Config,
  redis: RedisLink | undefined,
  log: Logger | undefined,
  reloaded?: () => void,
): Promise<CredentialStore | undefined> {
  if (config.cluster !== undefined && redis !== undefined) {
    const { prefix } = config.cluster;
    return new RedisStore(redis.cmd, (cid) => redisKeys.credential(prefix, cid));
  }
  if (config.auth.file !== undefined) return FileStore.open(config.auth.file, log, reloaded);
  return undefined;
}

/** Station authentication for one node, with its metrics on the node's registry. */
export async function setUpAuth(
  config: Config,
  redis: RedisLink | undefined,
  registry: Registry,
  log: Logger,
): Promise<AuthSide> {
  const metrics = new AuthMetrics(registry);
  const { auth } = config;
  if (auth.mode === 'none') {
    log.warn(
      { variable: 'OCPP_GW_AUTH_MODE', mode: 'none' },
      'station authentication is off: anyone who reaches the port can connect as any charge point; set OCPP_GW_AUTH_MODE=basic or client-cert',
    );
  }
  // The file store is opened before the authenticator whose cache its reloads must clear.
  const late: { authenticator?: Authenticator } = {};
  const store =
    auth.mode === 'none' || auth.httpUrl !== undefined
      ? undefined
      : await openStore(config, redis, log, () => late.authenticator?.invalidateAll());
  const source: CredentialSource =
    auth.httpUrl !== undefined
      ? { kind: 'webhook', verifier: new HttpVerifier(auth.httpUrl, auth.httpTimeoutMs) }
      : store !== undefined
        ? { kind: 'store', store }
        : { kind: 'none' };
  const authenticator = new Authenticator(auth, source, metrics, log);
  late.authenticator = authenticator;
  const follower =
    store === undefined
      ? undefined
      : new CredentialFollower(store, (cid) => authenticator.invalidate(cid), log);
  log.info({ mode: auth.mode, source: source.kind, store: store?.kind }, 'station authentication');
  return { authenticator, follower, store, close: async () => store?.close() };
}
