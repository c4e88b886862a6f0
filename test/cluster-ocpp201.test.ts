import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture, metricValue } from './harness/cluster.js';
import { allAnswered, commandRounds, RoamingCp, settledTally } from './harness/command-outcomes.js';
import { ownerEntries } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

/** A 2.0.1 downstream CALL (OCPP 2.0.1 Part 2 G03 ChangeAvailabilityRequest). */
const command201 = (uniqueId: string): Record<string, unknown> => ({
  MessageTypeId: 2,
  UniqueId: uniqueId,
  Action: 'ChangeAvailability',
  Payload: { operationalStatus: 'Operative' },
});

/**
 * The node-loss guarantee of test/cluster-node-loss.test.ts for OCPP 2.0.1 stations: 3 gateway
 * processes, one killed with SIGKILL while 2.0.1 commands flow across nodes; every command ends
 * with the station's answer or a gateway error reply (docs/architecture.md §5.11). Payloads are
 * schema-checked both ways, so each command is a valid 2.0.1 CALL and each answer a valid response.
 */
describe('OCPP 2.0.1 across a 3-node cluster (standalone Redis)', () => {
  let f: ClusterFixture;
  const roaming: RoamingCp[] = [];
  before(async () => {
    f = await ClusterFixture.start(
      'standalone',
      3,
      { OCPP_GW_SCHEMA_VALIDATION: 'all' },
      { protocols: ['ocpp2.0.1'] },
    );
  });
  after(async () => {
    for (const cp of roaming) cp.stop();
    await f.teardown();
  });

  it('routes 2.0.1 commands to stations on other nodes; kill -9 of a node loses none', async (t) => {
    const cps = Array.from({ length: 30 }, (_, i) => new RoamingCp(f, `v201-kill-cp-${i}`));
    roaming.push(...cps);
    for (const [i, cp] of cps.entries()) await cp.connect(Math.floor(i / 10));
    await eventually(async () => (await ownerEntries(f)).size >= 30, 5000, '30 owner entries');
    const cids = cps.map((cp) => cp.cid);
    const before = await commandRounds(f, cids, 2, 100, undefined, command201);
    await allAnswered(f, before, 10_000, 'every 2.0.1 command answered before the kill');
    let forwarded = 0;
    for (const i of [0, 1, 2]) {
      forwarded += metricValue(await f.metrics(i), 'ocpp_gateway_route_total{result="forwarded"}');
    }
    assert.ok(forwarded > 0, 'some commands crossed nodes over the route bus');

    const ids = await commandRounds(
      f,
      cids,
      12,
      100,
      async (round) => {
        if (round === 4) await f.kill(1);
      },
      (id) => command201(`k-${id}`),
    );
    const sent = ids.map((id) => `k-${id}`);
    const counts = await settledTally(f, sent, 30_000);
    t.diagnostic(`${sent.length} commands: ${JSON.stringify(counts)}`);
    assert.equal(counts.neither ?? 0, 0, 'commands with neither an answer nor an error reply');
    assert.ok((counts.answered ?? 0) > sent.length / 2, 'most commands were delivered and answered');
    await eventually(
      () => cps.every((cp) => cp.cp?.closed === undefined),
      10_000,
      'every station reconnected to a survivor',
    );
  });
});
