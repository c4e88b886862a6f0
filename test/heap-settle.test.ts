import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';

interface Settled {
  committedBefore: number;
  committedAfter: number;
  ms: number;
}

/** The gateway's "heap settled" log lines so far. */
function settles(gw: GatewayProcess): Settled[] {
  return gw
    .stdout()
    .split('\n')
    .filter((line) => line.includes('"heap settled"'))
    .map((line) => JSON.parse(line) as Settled);
}

async function waitForSettles(gw: GatewayProcess, count: number, timeoutMs: number): Promise<Settled[]> {
  const deadline = Date.now() + timeoutMs;
  while (settles(gw).length < count && Date.now() < deadline) await sleep(100);
  return settles(gw);
}

/** docs/architecture.md §6.8, on a real gateway process and real WebSocket clients. */
describe('heap settle (OCPP_GW_HEAP_SETTLE_S)', () => {
  it('gives back what start-up and a connection burst left, once the node is quiet; 0 turns it off', async () => {
    // One source address opens them all: past the per-address upgrade limit (README "Admission limits").
    const gw = await spawnGateway({
      OCPP_GW_HEAP_SETTLE_S: '2',
      OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '100000',
      OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '100000',
    });
    const off = await spawnGateway({ OCPP_GW_HEAP_SETTLE_S: '0' });
    const cps: ChargePoint[] = [];
    try {
      const [startUp] = await waitForSettles(gw, 1, 15_000);
      assert.ok(startUp !== undefined, `no start-up settle: ${gw.stdout()}`);
      assert.ok(startUp.committedAfter < startUp.committedBefore, JSON.stringify(startUp));

      // A burst: 2,000 stations connect and each sends a CALL, then all sit idle.
      for (let batch = 0; batch < 20; batch++) {
        const opened = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/hs-${batch}-${i}`),
          ),
        );
        for (const cp of opened)
          cp.send([
            2,
            'b1',
            'StatusNotification',
            { connectorId: 0, errorCode: 'NoError', status: 'Available' },
          ]);
        cps.push(...opened);
      }
      const [, burst] = await waitForSettles(gw, 2, 20_000);
      assert.ok(burst !== undefined, `no settle after the burst: ${gw.stdout().slice(-2000)}`);
      assert.ok(burst.committedBefore - burst.committedAfter >= 4 * 1024 * 1024, JSON.stringify(burst));
      assert.ok(
        cps.every((cp) => cp.closed === undefined),
        'every station still connected',
      );
      assert.deepEqual(settles(off), [], 'OCPP_GW_HEAP_SETTLE_S=0: never');
    } finally {
      await Promise.all(cps.map((cp) => cp.close().catch(() => undefined)));
      await gw.stop();
      await off.stop();
    }
  });
});
