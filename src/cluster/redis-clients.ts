import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ClusterConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';

export type Client = Redis | Cluster;

/** Reconnect forever, quickly at first: a node without Redis still serves its own sockets. */
export const retry = (attempt: number): number => Math.min(100 * attempt, 2000);

/**
 * One ioredis client of the node (docs/architecture.md §5.1), standalone or Redis Cluster, with the
 * node's options: commands fail fast while Redis is away (no offline queue) and have a deadline;
 * subscriptions wait for the connection.
 */
export function createClient(config: ClusterConfig, name: string, subscriber: boolean): Client {
  const options: RedisOptions = {
    connectionName: name,
    retryStrategy: retry,
    // Subscriptions wait for the connection; commands must fail fast (redis-link.ts says why).
    enableOfflineQueue: subscriber,
    maxRetriesPerRequest: subscriber ? null : 0,
    // A silently cut connection never closes: without a deadline a command would wait for
    // TCP to give up (15 min). Subscriptions wait for the connection instead.
    ...(subscriber ? {} : { commandTimeout: config.commandTimeoutMs }),
    // Off: it batches only within one tick, and uWS runs the tick queue after every message,
    // so each "pipeline" held one command (measured: more CPU per forwarded command than
    // without). TurnBatch batches per event-loop turn instead.
    enableAutoPipelining: false,
    // TCP_NODELAY (ioredis's default, stated because it matters): writes are batched per turn
    // already, and Nagle's algorithm would hold a command behind an unacknowledged one.
    noDelay: true,
  };
  if (config.clusterNodes.length === 0 && config.redisUrl !== undefined) {
    Object.assign(options, urlOptions(config.redisUrl));
  }
  // The variables win over the URL's user info: the password usually comes from a secret.
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (config.tls) options.tls = {};
  if (config.clusterNodes.length === 0) return new Redis(options);
  const clusterOptions: ClusterOptions = {
    redisOptions: options,
    clusterRetryStrategy: retry,
    enableOfflineQueue: subscriber,
    enableAutoPipelining: false,
    shardedSubscribers: subscriber,
  };
  return new Cluster([...config.clusterNodes], clusterOptions);
}

/**
 * `redis[s]://[user[:password]@]host[:port][/db]` as ioredis options. ioredis would parse it too,
 * but then its URL values take precedence over explicit options (lodash `defaults`).
 */
function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 6379 : Number(u.port),
  };
  if (u.username !== '') options.username = decodeURIComponent(u.username);
  if (u.password !== '') options.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (/^\d+$/.test(db)) options.db = Number(db);
  return options;
}

/** Start-up waits for Redis however long it takes, like MQTT; readiness reports the wait. */
export function waitReady(client: Client, log: Logger, role: string): Promise<void> {
  return new Promise((resolve) => {
    if (client.status === 'ready') {
      resolve();
      return;
    }
    let attempts = 0;
    const onError = (error: Error): void => {
      attempts += 1;
      if (attempts === 1 || attempts % 10 === 0)
        log.warn({ role, attempts, err: error }, 'redis not reachable; retrying');
    };
    // Some refusals raise no error (an ACL without `cluster|slots`: connecting forever): say so.
    const stuck = setInterval(
      () => log.warn({ role, status: client.status }, 'redis still not ready; check the URL, ACL and TLS'),
      10_000,
    );
    client.on('error', onError);
    client.once('ready', () => {
      clearInterval(stuck);
      client.off('error', onError);
      resolve();
    });
  });
}
