import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture, metricValue } from './harness/cluster.js';
import { commandRounds, RoamingCp, settledTally } from './harness/command-outcomes.js';
import { ownerEntries } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

/**
 * A rolling update in cluster mode (docs/architecture.md §6.2): SIGTERM one of 3 nodes while commands flow. Its
 * charge points get 1012 and move to the others, its registry entries go, its peers hear `bye`,
 * it exits 0, and every command ends answered or error-replied; none is answered `node_lost`,
 * which is for nodes that die, not for nodes that leave.
 */
describe('cluster drain (SIGTERM of one of 3 nodes, standalone Redis)', () => {
  let f: ClusterFixture;
  const roaming: RoamingCp[] = [];
  before(async () => {
    f = await ClusterFixture.start('standalone', 3, { OCPP_GW_DRAIN_SECONDS: '1' });
  });
  after(async () => {
    for (const cp of roaming) cp.stop();
    await f.teardown();
  });

  it('moves the charge points, releases the entries and answers every command', async (t) => {
    const cps = Array.from({ length: 30 }, (_, i) => new RoamingCp(f, `drain-cp-${i}`, 50));
    roaming.push(...cps);
    for (const [i, cp] of cps.entries()) await cp.connect(Math.floor(i / 10));
    await eventually(async () => (await ownerEntries(f)).size >= 30, 5000, '30 owner entries');
    const closes: (number | undefined)[] = [];
    for (const cp of cps.slice(10, 20)) cp.cp?.ws.once('close', (code: number) => closes.push(code));
    let exited: Promise<number | null> | undefined;
    const cids = cps.map((cp) => cp.cid);
    const ids = await commandRounds(f, cids, 12, 150, (round) => {
      if (round === 3) exited = f.node(1).stop('SIGTERM');
    });
    assert.equal(await exited, 0, 'the drained node exits 0');
    f.nodes[1] = undefined;
    const counts = await settledTally(f, ids, 20_000);
    t.diagnostic(`${ids.length} commands: ${JSON.stringify(counts)}`);
    assert.equal(counts.neither ?? 0, 0, 'commands with neither an answer nor an error reply');
    assert.equal(counts['error:node_lost'] ?? 0, 0, 'a clean leave is not a node loss');
    assert.ok((counts.answered ?? 0) > ids.length * 0.8, 'most commands answered');
    assert.deepEqual([...new Set(closes)], [1012], 'the drained node closed its sockets with 1012');
    await eventually(
      () => cps.every((cp) => cp.cp?.closed === undefined),
      10_000,
      'every CP reconnected to a remaining node',
    );
    await eventually(
      async () => [...(await ownerEntries(f)).values()].every((v) => !v.startsWith('node-1|')),
      5000,
      'no owner entry names the drained node',
    );
    // The gauge is set on a node's next beat after the `bye`, not at once.
    for (const i of [0, 2]) {
      await eventually(
        async () => metricValue(await f.metrics(i), 'ocpp_gateway_cluster_nodes') === 2,
        3000,
        `node-${i} sees 2 nodes`,
      );
    }
  });
});
