import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChargePoint, UpgradeRejected } from './harness/cp-client.js';
import { startGateway } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

type Started = Awaited<ReturnType<typeof startGateway>>;

async function refusedWith(url: string): Promise<number> {
  try {
    const cp = await ChargePoint.connect(url);
    cp.ws.terminate();
    return 101;
  } catch (error) {
    assert.ok(error instanceof UpgradeRejected, String(error));
    return error.status;
  }
}

async function counter(gw: Started, limit: string): Promise<number> {
  const text = await gw.gateway.metrics.registry.getSingleMetricAsString(
    'ocpp_gateway_admission_refused_total',
  );
  const match = new RegExp(`limit="${limit}"\\} (\\d+)`).exec(text);
  return Number(match?.[1] ?? NaN);
}

/** A gateway with the given limits and a backend watching everything it publishes. */
async function withGateway(
  env: Record<string, string>,
): Promise<{ gw: Started; backend: MqttObserver; base: string }> {
  const gw = await startGateway(env);
  const backend = await MqttObserver.connect(`mqtt://127.0.0.1:${gw.ports.mqttPort ?? 0}`, ['ocpp/#'], {
    protocolVersion: 4,
  });
  return { gw, backend, base: `ws://127.0.0.1:${gw.ports.wsPort}/ocpp` };
}

describe('admission limits', () => {
  describe('connections per node (OCPP_GW_MAX_CONNECTIONS)', () => {
    let t: Awaited<ReturnType<typeof withGateway>>;
    before(async () => {
      t = await withGateway({ OCPP_GW_MAX_CONNECTIONS: '2' });
    });
    after(async () => {
      await t.backend.end();
      await t.gw.stop();
    });

    it('answers 503 past the cap, publishes nothing for the refused station, and admits again after a close', async () => {
      const a = await ChargePoint.connect(`${t.base}/cap-a`);
      const b = await ChargePoint.connect(`${t.base}/cap-b`);
      assert.equal(await refusedWith(`${t.base}/cap-c`), 503);
      assert.equal(await counter(t.gw, 'max_connections'), 1);
      await a.close();
      await sleep(100);
      const c = await ChargePoint.connect(`${t.base}/cap-d`);
      await sleep(200);
      assert.equal(
        t.backend.seen.filter((m) => m.topic.includes('cap-c')).length,
        0,
        'nothing published for the refused station',
      );
      b.ws.terminate();
      c.ws.terminate();
    });
  });

  describe('upgrades per source address', () => {
    let t: Awaited<ReturnType<typeof withGateway>>;
    before(async () => {
      t = await withGateway({
        OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '1',
        OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '3',
      });
    });
    after(async () => {
      await t.backend.end();
      await t.gw.stop();
    });

    it('answers 429 past the burst and publishes nothing for it', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push(await refusedWith(`${t.base}/rate-${i}`));
      assert.deepEqual(statuses.slice(0, 3), [101, 101, 101]);
      assert.ok(
        statuses.slice(3).every((s) => s === 429),
        `got ${statuses.join(',')}`,
      );
      assert.ok((await counter(t.gw, 'address_rate')) >= 2);
      await sleep(200);
      assert.equal(t.backend.seen.filter((m) => /rate-[34]/.test(m.topic)).length, 0);
    });
  });

  describe('CALLs per connection', () => {
    let t: Awaited<ReturnType<typeof withGateway>>;
    before(async () => {
      t = await withGateway({
        OCPP_GW_CALLS_PER_S: '1',
        OCPP_GW_CALL_BURST: '3',
        OCPP_GW_REFUSED_CALLS_BEFORE_CLOSE: '5',
      });
    });
    after(async () => {
      await t.backend.end();
      await t.gw.stop();
    });

    it('answers CALLs past the burst with a CALLERROR, publishes none of them, and closes with 1008 on sustained excess', async () => {
      const cp = await ChargePoint.connect(`${t.base}/flood1`);
      for (let i = 1; i <= 4; i += 1) cp.send([2, `m${i}`, 'Heartbeat', {}]);
      const refusal = (await cp.next((m) => Array.isArray(m) && m[0] === 4)) as unknown[];
      assert.equal(refusal[1], 'm4');
      assert.equal(refusal[2], 'GenericError');
      assert.deepEqual(refusal[4], { reason: 'rate_limited' });
      await t.backend.waitFor('ocpp/cp/flood1', (m: { UniqueId?: string }) => m.UniqueId === 'm3');
      await sleep(300);
      const published = t.backend.seen
        .filter((m) => m.topic === 'ocpp/cp/flood1')
        .map((m) => (m.json as { UniqueId: string }).UniqueId);
      assert.deepEqual(published, ['m1', 'm2', 'm3'], 'the refused CALL was not published');
      assert.equal(await counter(t.gw, 'call_rate'), 1);
      // Answers to the backend's commands are never limited.
      cp.send([3, 'from-backend', {}]);
      for (let i = 5; i <= 12; i += 1) cp.send([2, `m${i}`, 'Heartbeat', {}]);
      const closed = await cp.waitClose();
      assert.equal(closed.code, 1008);
      assert.equal(await counter(t.gw, 'call_rate_close'), 1);
    });
  });
});
