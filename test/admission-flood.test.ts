import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { startGateway } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

type Started = Awaited<ReturnType<typeof startGateway>>;

const FLOOD_CALLS_PER_S = 8_000;
const FLOOD_MS = 3_000;
const SAMPLES = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Heartbeat round trips of one station through the gateway and a backend that answers it. */
async function roundTrips(cp: ChargePoint, prefix: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const id = `${prefix}${i}`;
    const started = performance.now();
    cp.send([2, id, 'Heartbeat', {}]);
    await cp.next((m) => Array.isArray(m) && m[1] === id, 10_000);
    times.push(performance.now() - started);
  }
  return times;
}

describe('a flooding socket beside a well-behaved one (default limits)', () => {
  let gw: Started;
  let backend: MqttObserver;
  before(async () => {
    gw = await startGateway();
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${gw.ports.mqttPort ?? 0}`, ['ocpp/cp/+'], {
      protocolVersion: 4,
    });
    // The backend answers the calm station's Heartbeats only.
    backend.client.on('message', (topic, payload) => {
      if (topic !== 'ocpp/cp/calm') return;
      const call = JSON.parse(payload.toString()) as { UniqueId: string };
      void backend.publish('ocpp/cs/calm', {
        MessageTypeId: 3,
        UniqueId: call.UniqueId,
        Payload: { currentTime: new Date().toISOString() },
      });
    });
  });
  after(async () => {
    await backend.end();
    await gw.stop();
  });

  it('keeps the other station round trip within 2x of idle and publishes only the flood within its rate', async (t) => {
    const calm = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/calm`);
    const flood = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/flood`);
    await roundTrips(calm, 'warm'); // JIT and connections warm, not measured
    const idle = median(await roundTrips(calm, 'idle'));
    let sent = 0;
    let flooding = true;
    const floodDone = (async () => {
      const perTick = FLOOD_CALLS_PER_S / 100;
      const until = performance.now() + FLOOD_MS;
      while (flooding && performance.now() < until) {
        for (let i = 0; i < perTick; i += 1) flood.send([2, `f${(sent += 1)}`, 'Heartbeat', {}]);
        await sleep(10);
      }
    })();
    await sleep(300);
    const busy = median(await roundTrips(calm, 'busy'));
    flooding = false;
    await floodDone;
    await sleep(300);
    const published = backend.seen.filter((m) => m.topic === 'ocpp/cp/flood').length;
    const refusals = flood.inbox.filter((m) => Array.isArray(m) && m[0] === 4).length;
    // Burst 200 plus 20/s for the seconds the flood and the wait lasted, with a second of slack.
    const allowed = 200 + 20 * (FLOOD_MS / 1000 + 2);
    assert.ok(sent > 2_000, `the flood sent ${sent}`);
    assert.ok(published <= allowed, `flood published ${published} > ${allowed}`);
    assert.ok(refusals > 0, 'the flood got CALLERRORs');
    // The round trips are a few milliseconds on loopback; 2 ms of floor keeps scheduler noise on
    // a shared machine from deciding the test.
    assert.ok(
      busy <= 2 * Math.max(idle, 2),
      `idle ${idle.toFixed(1)} ms, during the flood ${busy.toFixed(1)} ms`,
    );
    t.diagnostic(
      `idle ${idle.toFixed(1)} ms, flood ${busy.toFixed(1)} ms; flood sent ${sent}, published ${published}`,
    );
    calm.ws.terminate();
    flood.ws.terminate();
  });
});
