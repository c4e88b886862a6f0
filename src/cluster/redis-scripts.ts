import type { Cluster, Redis } from 'ioredis';

/**
 * The registry's atomic steps as Lua (run by EVALSHA; each touches one key, so they work on a
 * Redis Cluster unchanged). Values are `{nodeId}|{epoch}`.
 */

/** Newest wins: write this node's value, return what it replaced (nil when there was none). */
const CLAIM = `
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return previous`;

/** Compare-and-delete: a closing session never deletes the entry of its successor. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Re-assert after Redis came back: write (and refresh the TTL) when the key is missing or still
 * ours, or when it names a node the caller knows is dead (ARGV[3]); else return the other owner.
 */
const REASSERT = `
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] or (ARGV[3] ~= '' and current == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return current`;

/**
 * Written-mark of a downstream CALL (docs/architecture.md §5.7), set before it is written to the socket. A fresh
 * message (ARGV[3] = '0') always takes the mark: UniqueIds are only unique per connection
 * (OCPP-J 1.6 §4.1.1), so a reused id is a new command. A redelivery (MQTT DUP, ARGV[3] = '1')
 * takes it only when absent, and otherwise learns which node wrote the command before. A
 * forwarded command names its fence (ARGV[4], §5.13): finding it, nothing is taken.
 */
const MARK = `
if ARGV[4] ~= '' and redis.call('GET', KEYS[1]) == ARGV[4] then return ARGV[4] end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`;

/**
 * The sender's side of a lost owner (docs/architecture.md §5.13): fence the mark of a forwarded
 * command nobody took yet (the owner then never writes it), or learn who took it.
 */
const FENCE = `
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return current`;

type Reply = Promise<string | null>;

export interface ScriptedRedis {
  ocppClaim(key: string, value: string, ttlMs: number): Reply;
  ocppRelease(key: string, value: string): Promise<number>;
  ocppReassert(key: string, value: string, ttlMs: number, deadValue: string): Reply;
  ocppMark(key: string, nodeId: string, ttlMs: number, redelivered: '0' | '1', fence: string): Reply;
  ocppFence(key: string, fence: string, ttlMs: number): Reply;
  pexpire(key: string, ttlMs: number): Promise<number>;
  get(key: string): Promise<string | null>;
}

/** Registers the scripts on a client (idempotent per client) and returns it typed. */
export function withScripts(client: Redis | Cluster): ScriptedRedis {
  const scripted = client as unknown as Partial<ScriptedRedis>;
  if (scripted.ocppClaim === undefined) {
    client.defineCommand('ocppClaim', { numberOfKeys: 1, lua: CLAIM });
    client.defineCommand('ocppRelease', { numberOfKeys: 1, lua: RELEASE });
    client.defineCommand('ocppReassert', { numberOfKeys: 1, lua: REASSERT });
    client.defineCommand('ocppMark', { numberOfKeys: 1, lua: MARK });
    client.defineCommand('ocppFence', { numberOfKeys: 1, lua: FENCE });
  }
  return client as unknown as ScriptedRedis;
}
