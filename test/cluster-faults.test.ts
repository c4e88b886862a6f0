import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ClusterFixture, command, metricValue } from './harness/cluster.js';
import { allAnswered, outcomes, tally } from './harness/command-outcomes.js';
import { type Observed } from './harness/mqtt-observer.js';
import { redisClient, waitForEntries } from './harness/owner-entries.js';
import { eventually, sleep } from './harness/time.js';

describe('cluster faults: Redis and broker (3 gateway processes, standalone Redis, mosquitto)', () => {
  let f: ClusterFixture;
  before(async () => {
    f = await ClusterFixture.start('standalone');
  });
  after(async () => f.teardown());

  it('Redis restarted empty: ownership re-asserted and routing back within seconds', async (t) => {
    const cids = Array.from({ length: 30 }, (_, i) => `redis-cp-${i}`);
    for (const [i, cid] of cids.entries()) await f.responder(Math.floor(i / 10), cid);
    await waitForEntries(f, cids, 5000, '30 owner entries');
    const probe = new Redis(f.redis?.port ?? 0, '127.0.0.1', { maxRetriesPerRequest: 0 });
    await probe.set('test:sentinel', '1');
    await f.redis?.restart();
    probe.disconnect();
    const after = new Redis(f.redis?.port ?? 0, '127.0.0.1', { maxRetriesPerRequest: 0 });
    assert.equal(await after.exists('test:sentinel'), 0, 'Redis came back empty');
    after.disconnect();
    const reasserted = await waitForEntries(f, cids, 5000, 'ownership re-asserted');
    const ids = cids.map((cid) => `after-restart-${cid}`);
    const sentAt = Date.now();
    await Promise.all(
      cids.map((cid) => f.backend.publish(`ocpp/cs/${cid}`, command(`after-restart-${cid}`))),
    );
    await allAnswered(f, ids, 5000, 'all 30 commands routed and answered');
    t.diagnostic(
      `re-asserted ${reasserted} ms after restart; 30 commands answered in ${Date.now() - sentAt} ms`,
    );
  });

  it('Redis down: no socket dropped, local delivery and upstream go on, cross-node gets unroutable, then recovers', async (t) => {
    const cids = Array.from({ length: 9 }, (_, i) => `outage-cp-${i}`);
    const cps = await Promise.all(cids.map((cid, i) => f.responder(i % 3, cid)));
    await waitForEntries(f, cids, 5000, '9 owner entries');
    await f.redis?.kill();
    const during = cids.flatMap((cid) => [0, 1, 2].map((k) => `down-${k}-${cid}`));
    for (const cid of cids) {
      for (const k of [0, 1, 2]) await f.backend.publish(`ocpp/cs/${cid}`, command(`down-${k}-${cid}`));
    }
    cps.forEach((cp, i) => cp.send([2, `hb-down-${i}`, 'Heartbeat', {}]));
    await eventually(
      () => [...outcomes(f, during).values()].every((k) => k !== 'neither'),
      10_000,
      'every command during the outage answered or error-replied',
    );
    const counts = tally(outcomes(f, during));
    t.diagnostic(`during the Redis outage: ${JSON.stringify(counts)}`);
    assert.ok((counts.answered ?? 0) > 0, 'commands that landed on the owner node were delivered');
    assert.ok((counts['error:unroutable'] ?? 0) > 0, 'cross-node commands answered unroutable');
    assert.deepEqual(Object.keys(counts).sort(), ['answered', 'error:unroutable']);
    await eventually(
      () =>
        cps.every((_, i) =>
          f.backend.seen.some((m) => (m.json as { UniqueId?: string }).UniqueId === `hb-down-${i}`),
        ),
      5000,
      'upstream CALLs published during the outage',
    );
    assert.ok(
      cps.every((cp) => cp.closed === undefined),
      'no socket dropped',
    );
    await f.redis?.launch();
    const restartedAt = Date.now();
    // A fresh round of commands every 500 ms until one round is answered in full; each command
    // of every round still ends answered or error-replied.
    const rounds: string[][] = [];
    const recovered = await eventually(
      async () => {
        const ids = cids.map((cid) => `back-${rounds.length}-${cid}`);
        rounds.push(ids);
        await Promise.all(ids.map((id, i) => f.backend.publish(`ocpp/cs/${cids[i]}`, command(id))));
        await sleep(500);
        return [...outcomes(f, ids).values()].every((k) => k === 'answered');
      },
      10_000,
      'routing recovered after Redis came back',
    ).catch((error: unknown) => {
      const last = rounds.map((ids) => tally(outcomes(f, ids)));
      throw new Error(`${String(error)}: ${JSON.stringify(last)}`);
    });
    t.diagnostic(`routing back ${recovered} ms after Redis restarted (${rounds.length} rounds)`);
    await eventually(
      () => rounds.flat().every((id) => outcomes(f, [id]).get(id) !== 'neither'),
      10_000,
      'every command of every round answered or error-replied',
    );
    assert.ok(Date.now() - restartedAt < 20_000);
  });

  it('broker restart: no socket dropped; upstream sent during the outage arrives after it', async () => {
    const cids = Array.from({ length: 9 }, (_, i) => `broker-cp-${i}`);
    const cps = await Promise.all(cids.map((cid, i) => f.responder(i % 3, cid)));
    await f.mosquitto.stop();
    await sleep(300);
    cps.forEach((cp, i) => cp.send([2, `hb-outage-${i}`, 'Heartbeat', {}]));
    await sleep(700);
    await f.mosquitto.restart();
    const arrived = (i: number): Observed | undefined =>
      f.backend.seen.find(
        (m) =>
          m.topic === `ocpp/cp/${cids[i]}` && (m.json as { UniqueId?: string }).UniqueId === `hb-outage-${i}`,
      );
    await eventually(
      () => cps.every((_, i) => arrived(i) !== undefined),
      15_000,
      'upstream after the outage',
    );
    assert.ok(
      cps.every((cp) => cp.closed === undefined),
      'no socket dropped',
    );
    // Downstream works again too: the shared subscription was restored.
    const ids = cids.map((cid) => `after-broker-${cid}`);
    await Promise.all(cids.map((cid) => f.backend.publish(`ocpp/cs/${cid}`, command(`after-broker-${cid}`))));
    await allAnswered(f, ids, 10_000, 'downstream after the broker restart');
  });
});

describe('cluster faults: one Redis Cluster master restarted empty (3 gateway processes)', () => {
  let f: ClusterFixture;
  before(async () => {
    f = await ClusterFixture.start('cluster');
  });
  after(async () => f.teardown());

  it('the entries it held are re-asserted; routing goes on; no node is taken for dead', async (t) => {
    const cids = Array.from({ length: 30 }, (_, i) => `shard-cp-${i}`);
    for (const [i, cid] of cids.entries()) await f.responder(Math.floor(i / 10), cid);
    await waitForEntries(f, cids, 5000, '30 owner entries');
    const redis = redisClient(f);
    const sentinels = Array.from({ length: 60 }, (_, i) => `test:sentinel:${i}`);
    for (const key of sentinels) await redis.set(key, '1');
    await f.redisCluster?.restartMaster(0);
    const left = (await Promise.all(sentinels.map((key) => redis.exists(key)))).filter((n) => n === 1);
    redis.disconnect();
    assert.ok(
      left.length > 0 && left.length < sentinels.length,
      'one master came back empty, the others did not',
    );
    const reasserted = await waitForEntries(
      f,
      cids,
      5000,
      'ownership re-asserted on the restarted master',
    ).catch((error: unknown) => {
      const logs = f
        .node(0)
        .stdout()
        .split('\n')
        .filter((l) => /redis|re-assert/.test(l))
        .slice(-15);
      throw new Error(`${String(error)}\n${logs.join('\n')}`);
    });
    const ids = cids.map((cid) => `after-shard-${cid}`);
    await Promise.all(cids.map((cid, i) => f.backend.publish(`ocpp/cs/${cid}`, command(ids[i] ?? ''))));
    await allAnswered(f, ids, 5000, 'every command routed and answered');
    for (const i of [0, 1, 2]) {
      const text = await f.metrics(i);
      assert.equal(
        metricValue(text, 'ocpp_gateway_session_adoptions_total{result="adopted"}'),
        0,
        'no adoption',
      );
      assert.equal(metricValue(text, 'ocpp_gateway_command_failures_total{reason="node_lost"}'), 0);
    }
    t.diagnostic(`entries re-asserted ${reasserted} ms after the master was back`);
  });
});
