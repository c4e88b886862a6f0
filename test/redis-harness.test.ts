import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { RedisCluster, RedisServer } from './harness/redis.js';

describe('RedisServer harness', () => {
  let server: RedisServer;
  let client: Redis;
  before(async () => {
    server = await RedisServer.start();
    client = new Redis(server.url);
    // The client keeps reconnecting through the outages below; those errors are the point.
    client.on('error', () => {});
  });
  after(async () => {
    client.disconnect();
    await server.stop();
  });

  it('answers SET/GET, with persistence off', async () => {
    assert.equal(await client.set('k', 'v'), 'OK');
    assert.equal(await client.get('k'), 'v');
    assert.deepEqual(await client.config('GET', 'save'), ['save', '']);
    assert.deepEqual(await client.config('GET', 'appendonly'), ['appendonly', 'no']);
  });

  it('restart() brings it back empty on the same port', async () => {
    const url = server.url;
    await client.set('before-restart', '1');
    await server.restart(100);
    assert.equal(server.url, url);
    // The same client reconnects to the same address and finds nothing.
    assert.equal(await client.get('before-restart'), null);
    assert.equal(await client.dbsize(), 0);
  });

  it('kill() is an outage until launch()', async () => {
    await server.kill();
    const probe = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    await assert.rejects(probe.connect());
    await server.launch();
    assert.equal(await client.ping(), 'PONG');
  });
});

describe('RedisCluster harness', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const connect = (options?: ClusterOptions): Cluster => {
    const client = new Cluster([...cluster.nodes], options);
    clients.push(client);
    return client;
  };
  before(async () => {
    cluster = await RedisCluster.start(3);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await cluster.stop();
  });

  it('lists its nodes for OCPP_GW_* style configuration', () => {
    assert.equal(cluster.nodes.length, 3);
    assert.match(cluster.nodesEnv, /^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
  });

  it('stores 200 keys spread over every master', async () => {
    const client = connect();
    const keys = Array.from({ length: 200 }, (_, i) => `key:${i}`);
    await Promise.all(keys.map((k) => client.set(k, `value-${k}`)));
    assert.deepEqual(
      await Promise.all(keys.map((k) => client.get(k))),
      keys.map((k) => `value-${k}`),
    );
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    assert.equal(sizes.length, 3);
    assert.ok(
      sizes.every((n) => n > 0),
      `every master holds keys: ${sizes.join(',')}`,
    );
    assert.equal(
      sizes.reduce((a, b) => a + b),
      200,
    );
  });

  it('delivers sharded pub/sub (SSUBSCRIBE/SPUBLISH) on every master', async () => {
    const publisher = connect();
    const subscriber = connect({ shardedSubscribers: true });
    const channels = await channelPerMaster(publisher);
    assert.equal(channels.length, 3);
    const received: string[] = [];
    subscriber.on('smessage', (channel: string, message: string) => received.push(`${channel}=${message}`));
    // One call per channel: ioredis rejects an SSUBSCRIBE whose channels span several slots.
    for (const channel of channels) await subscriber.ssubscribe(channel);
    for (const channel of channels) {
      assert.equal(await publisher.spublish(channel, 'hello'), 1, `one subscriber on ${channel}`);
    }
    for (let i = 0; i < 50 && received.length < channels.length; i++) await sleep(20);
    assert.deepEqual(received.sort(), channels.map((c) => `${c}=hello`).sort());
  });
});

/** One channel name per master, found by asking the cluster where each candidate hashes. */
async function channelPerMaster(client: Cluster): Promise<string[]> {
  const ranges = await client.cluster('SLOTS');
  const ownerPort = (slot: number): number | undefined =>
    ranges.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
  const masters = new Set(ranges.map((range) => range[2]?.[1]));
  const byMaster = new Map<number | undefined, string>();
  for (let i = 0; byMaster.size < masters.size && i < 1000; i++) {
    const channel = `chan:${i}`;
    const port = ownerPort(await client.cluster('KEYSLOT', channel));
    if (!byMaster.has(port)) byMaster.set(port, channel);
  }
  return [...byMaster.values()];
}
