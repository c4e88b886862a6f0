import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { ClusterFixture, CLUSTER_TEST_ENV, metricValue } from './harness/cluster.js';
import { ownerEntries, waitForEntries } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';
import { RELEASE_SLICE } from '../src/cluster/release-queue.js';

/**
 * Every station of a node dropping at once (docs/architecture.md §5.2): the registry entries of
 * the closed sockets are released in slices after the close handlers (cluster/release-queue.ts),
 * all of them, while a station back on the node at once keeps its new entry. Real Redis, real
 * sockets cut without a close frame.
 */
const STATIONS = RELEASE_SLICE * 2 + 100;

describe(`a mass disconnect: ${STATIONS} stations of one node drop at once`, () => {
  let f: ClusterFixture;
  before(async () => {
    f = await ClusterFixture.start('standalone', 2, {
      ...CLUSTER_TEST_ENV,
      OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '100000',
      OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '100000',
    });
  });
  after(async () => {
    await f.teardown();
  });

  it('releases every closed socket entry, keeps the one claimed again, and the node stays alive', async () => {
    const cids = Array.from({ length: STATIONS }, (_, i) => `mass-${i}`);
    const cps: ChargePoint[] = [];
    for (let i = 0; i < cids.length; i += 100) {
      cps.push(
        ...(await Promise.all(cids.slice(i, i + 100).map((cid) => ChargePoint.connect(f.url(0, cid))))),
      );
    }
    await waitForEntries(f, cids, 10_000, 'an owner entry per station');
    const before = await ownerEntries(f);
    // Cut without a close frame, as a load balancer or a network cut does.
    for (const cp of cps) cp.ws.terminate();
    // One station is back on the same node at once: its new entry must survive the old one's release.
    const back = await ChargePoint.connect(f.url(0, 'mass-0'));
    await eventually(
      async () => {
        const entries = await ownerEntries(f);
        return (
          cids.slice(1).every((cid) => !entries.has(cid)) && entries.get('mass-0') !== before.get('mass-0')
        );
      },
      10_000,
      'every closed socket entry released',
    );
    const entries = await ownerEntries(f);
    assert.match(entries.get('mass-0') ?? '', /^node-0\|/);
    // The node is still alive for its peer.
    assert.equal(metricValue(await f.metrics(1), 'ocpp_gateway_cluster_nodes'), 2);
    await back.close();
  });
});
