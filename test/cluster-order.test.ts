import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OrderCluster, type OrderCounts } from './harness/order-run.js';

/**
 * Per-charge-point order end to end (docs/architecture.md §5.14): real mosquitto (shared
 * subscriptions dispatched round-robin), real Redis, three gateway processes, stations spread
 * over the nodes so that most commands cross the route bus, a backend publishing bursts of
 * sequenced commands (several in flight per station).
 */
const STATIONS = 30;
const ROUNDS = 8;
const BURST = 5;

function line(mode: string, c: OrderCounts): string {
  const errors = Object.entries(c.errorReplied)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return (
    `${mode}: sent ${c.sent}, answered ${c.answered}, error-replied {${errors}}, lost ${c.lost}, ` +
    `duplicated ${c.duplicated}, reordered ${c.reordered} (on ${c.stationsReordered} of ${STATIONS} stations), ${c.ms} ms`
  );
}

describe('per-charge-point order across a cluster', { timeout: 300_000 }, () => {
  let cluster: OrderCluster | undefined;
  after(async () => cluster?.stop());

  it('one subscribing node: every command answered, none lost, none reordered; the others stay ready', async () => {
    cluster = await OrderCluster.start([true, false, false]);
    const cids = await cluster.connectStations(STATIONS);
    await cluster.probe(cids);
    const counts = await cluster.run(cids, ROUNDS, BURST);
    console.log(line('one routing node', counts));
    assert.equal(counts.sent, STATIONS * ROUNDS * BURST);
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    assert.equal(counts.reordered, 0);
    // Order is about what is written; a command answered by the gateway instead (a delivery
    // later than the Redis command deadline on an overloaded machine, §5.13) is counted, not lost.
    const errors = Object.values(counts.errorReplied).reduce((a, b) => a + b, 0);
    assert.equal(counts.answered + errors, counts.sent);
    assert.ok(counts.answered > 0);
    // Node 0 took every command (probes included) and forwarded two thirds; 1 and 2 took none
    // from the broker, yet they are ready: the missing subscription is their configuration.
    assert.ok((await cluster.routed(0)) >= counts.sent);
    assert.equal(await cluster.routed(1), 0);
    assert.equal(await cluster.routed(2), 0);
    assert.equal(await cluster.readyz(1), 200);
    assert.equal(await cluster.readyz(2), 200);
    await cluster.stop();
    cluster = undefined;
  });

  it("one subscribing node on a Redis Cluster: none reordered (a station's written-marks share a slot)", async () => {
    // Written-marks on different shards came back in any order and a later command of a station
    // was written first (the chaos run's order-keeping mode, docs/architecture.md §5.14).
    cluster = await OrderCluster.start([true, false, false], {}, true);
    const cids = await cluster.connectStations(STATIONS);
    await cluster.probe(cids);
    const counts = await cluster.run(cids, ROUNDS, BURST);
    console.log(line('one routing node, Redis Cluster', counts));
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    assert.equal(counts.reordered, 0);
    await cluster.stop();
    cluster = undefined;
  });

  it('a node restarted with the subscription off drops the filter its resumed session still held', async () => {
    // No adoption: the restarted node must resume its own session, subscription included.
    cluster = await OrderCluster.start([true, true, false], { OCPP_GW_ADOPT_SESSIONS: 'false' });
    await cluster.restart(1, false);
    const cids = await cluster.connectStations(STATIONS, 'restarted');
    await cluster.probe(cids);
    const counts = await cluster.run(cids, 2, BURST);
    console.log(line('node 1 restarted with the subscription off', counts));
    assert.equal(counts.lost, 0);
    assert.equal(await cluster.routed(1), 0, 'node 1 took commands from the broker');
    assert.equal(counts.reordered, 0);
    await cluster.stop();
    cluster = undefined;
  });

  it('all three subscribing (round-robin): reorders counted and printed, none lost', async () => {
    cluster = await OrderCluster.start([true, true, true]);
    const cids = await cluster.connectStations(STATIONS);
    await cluster.probe(cids);
    const counts = await cluster.run(cids, ROUNDS, BURST);
    // A measurement, not a bound: the broker's dispatch and the nodes' timing decide it.
    console.log(line('three routing nodes (round-robin)', counts));
    assert.equal(counts.sent, STATIONS * ROUNDS * BURST);
    assert.equal(counts.lost, 0);
    assert.ok((await cluster.routed(1)) > 0 && (await cluster.routed(2)) > 0);
  });
});
