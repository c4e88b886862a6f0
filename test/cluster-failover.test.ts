import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChargePoint } from './harness/cp-client.js';
import { answerCalls, ClusterFixture } from './harness/cluster.js';
import { commandRounds, settledTally } from './harness/command-outcomes.js';
import { ownerEntries } from './harness/owner-entries.js';
import { errorRepliedButWritten, reachableWithin, writeCounts } from './harness/partition-checks.js';
import { eventually } from './harness/time.js';

/**
 * Redis Cluster with replicas (3 masters, 3 replicas, cluster-node-timeout 3000): kill -9 of the
 * master that serves node-1's route-bus channel (sharded pub/sub, docs/architecture.md §5.1)
 * while commands flow; its replica takes over. No command is lost or written twice, none a
 * charge point received gets an error reply, and node-1's charge points are reachable from
 * every node again once the new master is in place (the sharded subscription followed it).
 */
describe('Redis Cluster failover of the master holding a route-bus channel', () => {
  let f: ClusterFixture;
  const cps: ChargePoint[] = [];
  before(async () => {
    // A node TTL longer than the failover (cluster-node-timeout 3000 plus the election): no node
    // is taken for dead while Redis refuses every command.
    const env = { OCPP_GW_NODE_HEARTBEAT_MS: '500', OCPP_GW_NODE_TTL_MS: '8000' };
    f = await ClusterFixture.start('cluster', 3, env, { replicas: 1 });
  });
  after(async () => {
    await f.teardown();
  });

  it('commands flowing through the failover: none lost, none written twice, routing back', async (t) => {
    const cids = Array.from({ length: 30 }, (_, i) => `failover-cp-${i}`);
    for (const [i, cid] of cids.entries()) {
      const cp = await f.connect(Math.floor(i / 10), cid);
      // Slow answers: commands written before the kill are answered while Redis refuses
      // every command, so the owner's `done` reply meets the failover.
      answerCalls(cp, 300);
      cps.push(cp);
    }
    await eventually(async () => (await ownerEntries(f)).size >= 30, 5000, '30 owner entries');
    const cluster = f.redisCluster;
    assert.ok(cluster !== undefined);
    let killed: Promise<number> | undefined;
    const ids = await commandRounds(f, cids, 40, 400, (round) => {
      // Not awaited: commands keep flowing while the replica takes over.
      if (round === 5) killed = cluster.killMasterOf('ocpp-gw:route:node-1');
    });
    const port = await killed;
    const failedOverAt = Date.now();
    const counts = await settledTally(f, ids, 30_000);
    const ms = await reachableWithin(f, cids.slice(10, 20), 10_000, 'failover-probe');
    const written = writeCounts(cps);
    const twice = [...written].filter(([id, n]) => n > 1 && ids.includes(id)).map(([id]) => id);
    const wrong = errorRepliedButWritten(f, new Map([...written].filter(([id]) => ids.includes(id))));
    t.diagnostic(
      `master ${String(port)} killed; ${ids.length} commands: ${JSON.stringify(counts)}; ` +
        `written twice ${twice.length}; error reply though written ${wrong.length}`,
    );
    const kinds = new Map<string, number>();
    for (const m of f.backend.seen) {
      const j = m.json as { UniqueId?: string; ErrorDetails?: { reason?: string } };
      if (j.UniqueId !== undefined && wrong.includes(j.UniqueId) && j.ErrorDetails !== undefined) {
        const k = `${j.ErrorDetails.reason ?? ''}@${String(m.userProperties?.['gateway-node'])}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    }
    t.diagnostic(`error replies for written commands by reason@node: ${JSON.stringify([...kinds])}`);
    assert.equal(counts.neither ?? 0, 0, 'commands with neither an answer nor an error reply');
    assert.deepEqual(twice, [], 'commands written to a charge point twice');
    assert.deepEqual(wrong, [], 'error replies for commands a charge point received');
    // Logged once per outage, not once per command or per shard flap.
    for (const i of [0, 1, 2]) {
      const lines = f
        .node(i)
        .stdout()
        .split('\n')
        .filter((l) => l.includes('written-marks unavailable'));
      assert.ok(lines.length <= 2, `node-${i} logged 'written-marks unavailable' ${lines.length} times`);
    }
    t.diagnostic(
      `node-1's charge points reachable ${Date.now() - failedOverAt} ms after the failover (${ms} ms probing)`,
    );
  });
});
