import { Cluster, Redis } from 'ioredis';
import type { ClusterFixture } from './cluster.js';
import { eventually } from './time.js';

/**
 * Reads the registry straight from Redis, as an operator would: every `{prefix}:owner:*` entry
 * with its value. On Redis Cluster each master is asked for its share.
 */
export async function ownerEntries(
  fixture: ClusterFixture,
  prefix = 'ocpp-gw',
): Promise<Map<string, string>> {
  const targets =
    fixture.redis !== undefined
      ? [{ host: '127.0.0.1', port: fixture.redis.port }]
      : [...(fixture.redisCluster?.nodes ?? [])];
  const entries = new Map<string, string>();
  for (const target of targets) {
    const client = new Redis({
      host: target.host,
      port: target.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await client.connect();
      const keys = await client.keys(`${prefix}:owner:*`);
      for (const key of keys) {
        const value = await client.get(key);
        if (value !== null) entries.set(key.slice(`${prefix}:owner:`.length), value);
      }
    } catch {
      // Down (a fault test): report what the others hold.
    } finally {
      client.disconnect();
    }
  }
  return entries;
}

/** A client on the fixture's Redis (a Cluster client on Redis Cluster), for tests that write to it. */
export function redisClient(fixture: ClusterFixture): Redis | Cluster {
  if (fixture.redis !== undefined) {
    return new Redis({ host: '127.0.0.1', port: fixture.redis.port, maxRetriesPerRequest: 1 });
  }
  return new Cluster([...(fixture.redisCluster?.nodes ?? [])], { redisOptions: { maxRetriesPerRequest: 1 } });
}

/** Waits until every one of `cids` has an owner entry; resolves to how long it took. */
export async function waitForEntries(
  fixture: ClusterFixture,
  cids: readonly string[],
  timeoutMs: number,
  what: string,
): Promise<number> {
  return eventually(
    async () => {
      const entries = await ownerEntries(fixture);
      return cids.every((cid) => entries.has(cid));
    },
    timeoutMs,
    what,
  );
}

/** Waits until the owner entry of `cid` names gateway `node-{index}`. */
export async function waitForOwner(
  fixture: ClusterFixture,
  cid: string,
  index: number,
  timeoutMs: number,
): Promise<number> {
  return eventually(
    async () => (await ownerEntries(fixture)).get(cid)?.startsWith(`node-${index}|`) === true,
    timeoutMs,
    `${cid} owned by node-${index}`,
  );
}
