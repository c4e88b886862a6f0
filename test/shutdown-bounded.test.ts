import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, type GatewayEnv, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { sleep } from './harness/time.js';
import { RedisServer } from './harness/redis.js';

const DRAIN_S = 2;
/**
 * What a shutdown may take beyond the drain window whatever the broker and Redis do: the
 * 5 s flush window for in-flight publishes, then one bounded step per link.
 */
const BOUND_MS = 10_000;
/** A shutdown still running after this is hung: the process is killed and the test fails. */
const HUNG_MS = 40_000;

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** SIGTERM, then the exit code and how long it took; SIGKILL and 'hung' after {@link HUNG_MS}. */
async function terminate(gw: GatewayProcess): Promise<{ code: number | null | 'hung'; ms: number }> {
  const startedAt = Date.now();
  const exited = gw.stop('SIGTERM');
  const code = await Promise.race([exited, sleep(HUNG_MS).then(() => 'hung' as const)]);
  if (code === 'hung') await gw.stop('SIGKILL');
  return { code, ms: Date.now() - startedAt };
}

async function scenario(env: GatewayEnv, hang: () => void): Promise<void> {
  const gw = await spawnGateway({ ...env, OCPP_GW_DRAIN_SECONDS: String(DRAIN_S) });
  cleanups.push(async () => void (await gw.stop('SIGKILL')));
  const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/stuck-cp`);
  cleanups.push(() => cp.ws.terminate());
  await sleep(300);
  hang();
  // Published while nothing answers: in flight when the SIGTERM comes.
  cp.send([2, 'in-flight', 'Heartbeat', {}]);
  await sleep(300);
  const { code, ms } = await terminate(gw);
  assert.notEqual(code, 'hung', `still running ${HUNG_MS} ms after SIGTERM:\n${gw.stdout().slice(-2000)}`);
  assert.equal(code, 0);
  assert.ok(ms < DRAIN_S * 1000 + BOUND_MS, `exit took ${ms} ms`);
  assert.equal((await cp.waitClose(1000)).code, 1012);
}

describe('SIGTERM exits within the drain window plus a bound, whatever the broker does', () => {
  it('single node: the broker stops answering (SIGSTOP) with a publish in flight', async () => {
    const mosquitto = await Mosquitto.start();
    cleanups.push(() => mosquitto.stop());
    await scenario({ OCPP_GW_MQTT_URL: mosquitto.url }, () => mosquitto.pause());
  });

  it('cluster node: the broker stops answering (shared subscription to give up, publish in flight)', async () => {
    const mosquitto = await Mosquitto.start();
    const redis = await RedisServer.start();
    cleanups.push(
      () => mosquitto.stop(),
      () => redis.stop(),
    );
    await scenario({ OCPP_GW_MQTT_URL: mosquitto.url, OCPP_GW_REDIS_URL: redis.url }, () =>
      mosquitto.pause(),
    );
  });

  it('cluster node: Redis stops answering (SIGSTOP)', async () => {
    const mosquitto = await Mosquitto.start();
    const redis = await RedisServer.start();
    cleanups.push(
      () => mosquitto.stop(),
      () => redis.stop(),
    );
    await scenario({ OCPP_GW_MQTT_URL: mosquitto.url, OCPP_GW_REDIS_URL: redis.url }, () => redis.pause());
  });
});
