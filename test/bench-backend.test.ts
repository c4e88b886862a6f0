import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend } from '../bench/backend/process.js';
import { stopAll } from '../bench/lib/processes.js';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';

interface CommandStats {
  sent: number;
  answered: number;
  errorReplied: number;
  lost: number;
  pending: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

/** A station that answers every CALL from the gateway with an Accepted CALLRESULT. */
function answerEveryCall(cp: ChargePoint): { answered: () => number } {
  let answered = 0;
  cp.ws.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString()) as unknown[];
    if (frame[0] !== 2) return;
    answered++;
    cp.send([3, frame[1], { status: 'Accepted' }]);
  });
  return { answered: () => answered };
}

describe('bench backend (bench/backend) against a real gateway and mosquitto', () => {
  let broker: Mosquitto;
  let gateway: GatewayProcess;
  let url: string;

  before(async () => {
    broker = await Mosquitto.start();
    gateway = await spawnGateway({ OCPP_GW_MQTT_URL: broker.url, OCPP_GW_UPSTREAM_QOS: '1' });
    url = `ws://127.0.0.1:${gateway.ports.wsPort}/ocpp/`;
  });

  after(async () => {
    await stopAll();
    await gateway.stop();
    await broker.stop();
  });

  it('answers every CALL after the configured latency, with the action-specific payload', async () => {
    const backend = await startBackend({
      BENCH_BACKEND_MQTT_URL: broker.url,
      BENCH_BACKEND_LATENCY_MS: '300',
    });
    const cp = await ChargePoint.connect(`${url}BB-LAT-1`);
    const sentAt = performance.now();
    cp.send([2, 'boot-1', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]);
    const boot = (await cp.next((m) => (m as unknown[])[1] === 'boot-1', 5000)) as unknown[];
    const tookMs = performance.now() - sentAt;
    assert.equal(boot[0], 3);
    assert.equal((boot[2] as { status: string }).status, 'Accepted');
    assert.ok(tookMs >= 290, `boot reply after ${tookMs} ms, before the 300 ms latency`);
    cp.send([2, 'hb-1', 'Heartbeat', {}]);
    const hb = (await cp.next((m) => (m as unknown[])[1] === 'hb-1', 5000)) as unknown[];
    assert.equal(typeof (hb[2] as { currentTime: unknown }).currentTime, 'string');
    await cp.close();
    const done = await backend.finish();
    assert.deepEqual(done.responder, { callsSeen: 2, answered: 2, ignored: 0, stationsSeen: 1 });
    assert.equal(done.commands, undefined);
  });

  it('sends commands at a rate to the stations it has seen and reports their round trips, none lost', async () => {
    const backend = await startBackend({
      BENCH_BACKEND_MQTT_URL: broker.url,
      BENCH_BACKEND_COMMAND_RATE: '100',
      BENCH_BACKEND_COMMAND_TIMEOUT_MS: '5000',
    });
    const stations = await Promise.all(
      ['BB-CMD-1', 'BB-CMD-2', 'BB-CMD-3'].map((id) => ChargePoint.connect(`${url}${id}`)),
    );
    const answering = stations.map(answerEveryCall);
    for (const cp of stations)
      cp.send([2, 'boot', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const done = await backend.finish();
    const commands = done.commands as CommandStats;
    const answeredByStations = answering.reduce((sum, a) => sum + a.answered(), 0);
    assert.ok(commands.sent >= 20, `only ${commands.sent} commands sent in 1.5 s at 100/s`);
    assert.equal(commands.answered, commands.sent);
    assert.equal(answeredByStations, commands.sent);
    assert.equal(commands.lost, 0);
    assert.equal(commands.errorReplied, 0);
    assert.equal(commands.pending, 0);
    assert.ok(
      commands.p50Ms !== undefined && commands.p99Ms !== undefined && commands.p50Ms <= commands.p99Ms,
    );
    for (const cp of stations) await cp.close();
  });

  it('sends exactly one command per station with BENCH_BACKEND_COMMANDS_PER_STATION=1', async () => {
    const backend = await startBackend({
      BENCH_BACKEND_MQTT_URL: broker.url,
      BENCH_BACKEND_COMMAND_RATE: '200',
      BENCH_BACKEND_COMMANDS_PER_STATION: '1',
    });
    const stations = await Promise.all(
      ['BB-ONE-1', 'BB-ONE-2'].map((id) => ChargePoint.connect(`${url}${id}`)),
    );
    const answering = stations.map(answerEveryCall);
    for (const cp of stations)
      cp.send([2, 'boot', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const commands = (await backend.finish()).commands as CommandStats;
    assert.deepEqual(
      answering.map((a) => a.answered()),
      [1, 1],
    );
    assert.equal(commands.sent, 2);
    assert.equal(commands.answered, 2);
    for (const cp of stations) await cp.close();
  });

  it('counts a command the station never answers as error-replied or lost, never as answered', async () => {
    const backend = await startBackend({
      BENCH_BACKEND_MQTT_URL: broker.url,
      BENCH_BACKEND_COMMAND_RATE: '50',
      BENCH_BACKEND_COMMANDS_PER_STATION: '1',
      BENCH_BACKEND_COMMAND_TIMEOUT_MS: '1000',
    });
    const cp = await ChargePoint.connect(`${url}BB-MUTE-1`);
    cp.send([2, 'boot', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]);
    await cp.next((m) => (m as unknown[])[0] === 2, 5000);
    const commands = (await backend.finish()).commands as CommandStats;
    assert.equal(commands.sent, 1);
    assert.equal(commands.answered, 0);
    assert.equal(commands.errorReplied + commands.lost, 1);
    await cp.close();
  });

  it('refuses a bad variable, naming it, with exit code 2', async () => {
    await assert.rejects(
      startBackend({ BENCH_BACKEND_LATENCY_MS: 'soon' }),
      (err: Error) => err.message.includes('BENCH_BACKEND_LATENCY_MS=soon') && err.message.includes('code 2'),
    );
  });
});
