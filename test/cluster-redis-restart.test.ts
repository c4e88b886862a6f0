import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ClusterFixture, command } from './harness/cluster.js';
import { doubleOutcomes, outcomes, tally } from './harness/command-outcomes.js';
import { waitForEntries } from './harness/owner-entries.js';
import { eventually, sleep } from './harness/time.js';

const ROUTE_TIMEOUT_MS = 4000;
/** How long after the restarted Redis Cluster is ok routing may take to work again. */
const BACK_WITHIN_MS = 15_000;

/** Subscribers of `channel` (sharded pub/sub) on the master that serves it now. */
async function shardSubscribers(f: ClusterFixture, channel: string): Promise<number> {
  const port = await f.redisCluster?.masterOf(channel);
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const reply = (await client.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
    return Number(reply[1]);
  } catch {
    return 0;
  } finally {
    client.disconnect();
  }
}

/** What the nodes logged about Redis and their route bus, for a failure message. */
function busLog(f: ClusterFixture): string {
  return [0, 1, 2]
    .flatMap((i) =>
      f
        .node(i)
        .stdout()
        .split('\n')
        .filter((l) => /route bus|redis/.test(l))
        .slice(-8)
        .map((l) => `node-${i}: ${l.slice(0, 300)}`),
    )
    .join('\n');
}

/**
 * Every node of a Redis Cluster with replicas killed and started again empty at once (a power cut
 * without persistence): each gateway must subscribe its route-bus channel again and write its
 * owner entries back (docs/architecture.md §5.10), so that within a bound every command, most of
 * them forwarded, gets exactly one outcome: the charge point's answer. Before the fix the sharded
 * subscriptions did not come back (the owner's `reply` never reached the forwarding node, whose
 * route deadline then answered a second time) and the entries stayed missing (`offline`).
 */
describe('Redis Cluster: every node restarted empty at once (3 gateway processes)', () => {
  let f: ClusterFixture;
  before(async () => {
    const env = {
      OCPP_GW_NODE_HEARTBEAT_MS: '500',
      OCPP_GW_NODE_TTL_MS: '8000',
      OCPP_GW_ROUTE_TIMEOUT_MS: String(ROUTE_TIMEOUT_MS),
    };
    f = await ClusterFixture.start('cluster', 3, env, { replicas: 1 });
  });
  after(async () => f.teardown());

  it('route bus and owner entries come back; every command gets one outcome, the answer', async (t) => {
    const cids = Array.from({ length: 30 }, (_, i) => `restart-cp-${i}`);
    for (const [i, cid] of cids.entries()) await f.responder(Math.floor(i / 10), cid);
    await waitForEntries(f, cids, 5000, '30 owner entries');
    const cluster = f.redisCluster;
    assert.ok(cluster !== undefined);
    await cluster.restartAllEmpty();
    const channels = [0, 1, 2].map((i) => `ocpp-gw:route:node-${i}`);
    const subscribedMs = await eventually(
      async () => (await Promise.all(channels.map((c) => shardSubscribers(f, c)))).every((n) => n === 1),
      BACK_WITHIN_MS,
      'every node subscribed to its route-bus channel again',
    ).catch(async (error: unknown) => {
      const counts = await Promise.all(channels.map((c) => shardSubscribers(f, c)));
      const dump: string[] = [];
      for (const n of f.redisCluster?.nodes ?? []) {
        const c = new Redis({ host: '127.0.0.1', port: n.port, maxRetriesPerRequest: 0 });
        const role = ((await c.call('ROLE')) as unknown[])[0];
        const list = String(await c.call('CLIENT', 'LIST'));
        const slot = await c.call('CLUSTER', 'KEYSLOT', channels[0] ?? '');
        const nodes = String(await c.call('CLUSTER', 'NODES'))
          .split('\n')
          .filter((l) => l.includes('myself'));
        dump.push(`${n.port} ${String(role)} slot ${String(slot)} ${nodes.join('')}`);
        dump.push(
          ...list
            .split('\n')
            .filter((l) => l.includes('bus'))
            .map((l) => `  ${l}`),
        );
        c.disconnect();
      }
      throw new Error(
        `${String(error)}: subscribers ${JSON.stringify(counts)}\n${busLog(f)}\n${dump.join('\n')}`,
      );
    });
    const entriesMs = await waitForEntries(f, cids, BACK_WITHIN_MS, 'owner entries written back');
    // Probe rounds until one is answered in full; every probe counts below (one outcome each).
    const ids: string[] = [];
    let round = 0;
    const answeredMs = await eventually(
      async () => {
        const probe = cids.map((cid) => `probe${round}-${cid}`);
        round += 1;
        ids.push(...probe);
        await Promise.all(probe.map((id, i) => f.backend.publish(`ocpp/cs/${cids[i] ?? ''}`, command(id))));
        return eventually(
          () => [...outcomes(f, probe).values()].every((k) => k === 'answered'),
          1500,
          'probe round answered',
        ).then(
          () => true,
          () => false,
        );
      },
      BACK_WITHIN_MS,
      'a round of commands to every charge point answered',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${JSON.stringify(tally(outcomes(f, ids.slice(-30))))}`);
    });
    const final = cids.map((cid) => `final-${cid}`);
    ids.push(...final);
    await Promise.all(final.map((id, i) => f.backend.publish(`ocpp/cs/${cids[i] ?? ''}`, command(id))));
    await eventually(
      () => [...outcomes(f, final).values()].every((k) => k === 'answered'),
      5000,
      'the final round answered',
    );
    // A lost `reply` envelope shows as a second outcome at the forwarding node's route deadline:
    // only waiting past it proves there is none.
    await sleep(ROUTE_TIMEOUT_MS + 2000);
    t.diagnostic(
      `after the restart: subscribed in ${subscribedMs} ms, entries back in ${entriesMs} ms, ` +
        `answered ${answeredMs} ms after Redis was ok (${round} probe rounds)`,
    );
    assert.deepEqual(doubleOutcomes(f, final), [], 'commands of the final round with two outcomes');
    assert.deepEqual(doubleOutcomes(f, ids), [], 'probe commands with two outcomes');
  });
});
