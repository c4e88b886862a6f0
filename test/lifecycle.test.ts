import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadUws } from '../src/edge/uws.js';
import { NativeModuleError } from '../src/errors.js';
import { ChargePoint } from './harness/cp-client.js';
import { runGateway, spawnGateway, TEST_ENV } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { eventually, sleep } from './harness/time.js';

describe('native uWS binding', () => {
  it('loads the real binary', async () => {
    const uws = await loadUws();
    assert.equal(typeof uws.App, 'function');
  });
  it('refuses to run without it (GW_ERR_UWS_NATIVE)', async () => {
    await assert.rejects(
      loadUws('uWebSockets.js-missing-binary'),
      (e: unknown) => e instanceof NativeModuleError && e.code === 'GW_ERR_UWS_NATIVE',
    );
  });
});

describe('listen port', () => {
  it('refuses to share its WebSocket port with another process (GW_ERR_LISTEN, exit 1)', async () => {
    const first = await spawnGateway({ OCPP_GW_EMBEDDED_MQTT_PORT: '0' });
    try {
      const second = await runGateway({ ...TEST_ENV, OCPP_GW_PORT: String(first.ports.wsPort) });
      assert.equal(second.code, 1);
      assert.match(second.stdout, /"code":"GW_ERR_LISTEN"/);
    } finally {
      await first.stop('SIGKILL');
    }
  });
});

describe('node lifecycle (gateway process)', () => {
  it('serves health, readiness and metrics, and drains on SIGTERM with 1012', async () => {
    const broker = await Mosquitto.start();
    // One session closes per 100 ms tick, spread over the drain: 20 sessions over 2 s keep the
    // node draining for about 2 s, long enough to ask /readyz in the middle of it.
    const gw = await spawnGateway({ OCPP_GW_MQTT_URL: broker.url, OCPP_GW_DRAIN_SECONDS: '2' });
    try {
      const http = `http://127.0.0.1:${gw.ports.httpPort}`;
      assert.equal((await fetch(`${http}/healthz`)).status, 200);
      const ready = await fetch(`${http}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { state: string }).state, 'ready');
      const cps = await Promise.all(
        ['a', 'b', 'c'].map((id) => ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${id}`)),
      );
      cps[0]?.send([2, '1', 'Heartbeat', {}]);
      await sleep(200);
      const metrics = await (await fetch(`${http}/metrics`)).text();
      assert.match(metrics, /ocpp_gateway_connections\{version="1.6"\} 3/);
      assert.match(
        metrics,
        /ocpp_gateway_messages_total\{direction="upstream",type="call",action="Heartbeat"\} 1/,
      );
      assert.match(metrics, /ocpp_gateway_process_resident_memory_bytes/);
      assert.doesNotMatch(metrics, /cid=|cpId=/, 'no charge-point id as a label');

      const more = await Promise.all(
        Array.from({ length: 17 }, (_, i) =>
          ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/drain-${i}`),
        ),
      );
      const all = [...cps, ...more];

      const exit = gw.stop('SIGTERM');
      await eventually(() => gw.stdout().includes('"to":"draining"'), 5000, 'node state draining logged');
      const during = await fetch(`${http}/readyz`);
      assert.equal(during.status, 503, 'not ready while draining');
      assert.equal(((await during.json()) as { state: string }).state, 'draining');
      assert.ok(
        all.some((cp) => cp.closed === undefined),
        'readiness was read while sessions were still draining',
      );
      for (const cp of all) assert.equal((await cp.waitClose(5000)).code, 1012);
      assert.equal(await exit, 0);
    } finally {
      await gw.stop('SIGKILL');
      await broker.stop();
    }
  });

  it('stays live but not ready while the broker is down, and recovers', async () => {
    const broker = await Mosquitto.start();
    const gw = await spawnGateway({ OCPP_GW_MQTT_URL: broker.url });
    try {
      const http = `http://127.0.0.1:${gw.ports.httpPort}`;
      const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/live1`);
      await broker.stop();
      await sleep(500);
      assert.equal((await fetch(`${http}/healthz`)).status, 200);
      assert.equal((await fetch(`${http}/readyz`)).status, 503);
      assert.equal(cp.closed, undefined, 'a broker outage does not drop charge points');
      await broker.restart();
      for (let i = 0; i < 50 && (await fetch(`${http}/readyz`)).status !== 200; i++) await sleep(200);
      assert.equal((await fetch(`${http}/readyz`)).status, 200);
    } finally {
      await gw.stop('SIGKILL');
      await broker.stop();
    }
  });
});
