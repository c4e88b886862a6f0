import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture } from './harness/cluster.js';
import type { ChargePoint } from './harness/cp-client.js';
import { ownerEntries } from './harness/owner-entries.js';
import { eventually, sleep } from './harness/time.js';

type Reply = { MessageTypeId: number; UniqueId: string; ErrorDetails?: { reason?: string } };

// More than mosquitto's Receive Maximum (20): the rest of the answers wait in the publish backlog.
const STATIONS = 60;

/**
 * A node drained (SIGTERM) while it still waits on forwards to a killed owner answers them at
 * the end of its drain (docs/architecture.md §6.2), and those answers reach the backend before
 * the node ends its MQTT session. Found by the 1,000,000-command chaos run: every one of its 2,498
 * lost commands was such an answer, published and then dropped because the link was ended with
 * no time left (`gateway stopped before the broker acknowledged`) and the session with it.
 * Node 1 reads every command (node 0 takes none from the broker) and forwards it to node 0, which
 * writes it to a station that never answers; node 0 is killed -9, so node 1's verdict waits for
 * the route deadline (the command's written-mark is held, §5.13); node 1 is then drained and
 * answers them `node_lost`.
 */
describe('drain with forwards pending on a killed owner', () => {
  let f: ClusterFixture;
  const cps: ChargePoint[] = [];
  before(async () => {
    f = await ClusterFixture.start(
      'standalone',
      2,
      { OCPP_GW_DRAIN_SECONDS: '1', OCPP_GW_CALL_TIMEOUT_MS: '60000', OCPP_GW_ROUTE_TIMEOUT_MS: '120000' },
      { nodeEnv: (i) => ({ OCPP_GW_DOWNSTREAM_SUBSCRIBE: String(i === 1) }) },
    );
    for (let i = 0; i < STATIONS; i++) cps.push(await f.connect(0, `dp-${i}`));
    await eventually(async () => (await ownerEntries(f)).size >= STATIONS, 5000, 'owner entries');
  });
  after(() => f.teardown());

  it('every pending forward gets its answer on the Reply topic', async () => {
    for (const [i] of cps.entries()) {
      await f.backend.publish(`ocpp/cs/dp-${i}`, {
        MessageTypeId: 2,
        UniqueId: `dp-cmd-${i}`,
        Action: 'DataTransfer',
        Payload: { vendorId: 'test' },
      });
    }
    // Written to every station (which does not answer): the owner took each command's mark.
    for (const [i, cp] of cps.entries()) await cp.next((m) => (m as unknown[])[1] === `dp-cmd-${i}`, 10_000);
    await f.kill(0);
    await sleep(2500); // node 1 judges node 0 lost (TTL 1 s); the marks are held, so it waits
    await f.node(1).stop('SIGTERM');
    f.nodes[1] = undefined;
    const answered = new Map<string, string | undefined>();
    for (let i = 0; i < STATIONS; i++) {
      const seen = await f.backend.waitFor(
        `ocpp/cp/dp-${i}/Reply`,
        (j: Reply) => j.UniqueId === `dp-cmd-${i}`,
        10_000,
      );
      const json = seen.json as Reply;
      assert.equal(json.MessageTypeId, 4);
      answered.set(json.UniqueId, json.ErrorDetails?.reason);
    }
    assert.equal(answered.size, STATIONS);
    // Each was written and its owner judged lost: `node_lost` ("may have been written"), not
    // `shutdown` ("not written"), docs/architecture.md §3.4.
    assert.deepEqual(new Set(answered.values()), new Set(['node_lost']));
  });
});
