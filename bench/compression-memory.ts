/**
 * Memory per booted OCPP 2.0.1 station with OCPP_GW_COMPRESSION off, shared and dedicated.
 *
 * For each mode: fresh mosquitto, a gateway process (schema checks off), a backend that accepts
 * every BootNotification; baseline RSS after BENCH_BASELINE_MS; BENCH_CONNECTIONS `ws` stations
 * offering `ocpp2.0.1` and permessage-deflate (so `shared` and `dedicated` negotiate it, `off`
 * does not), each sending a 2.0.1 BootNotification and waiting for the Accepted reply; RSS after
 * BENCH_SETTLE_MS; result = (RSS - baseline) / booted stations. The stations run in this process,
 * the gateway in its own. Run: `npm run build && node dist/bench/compression-memory.js`.
 */
import WebSocket from 'ws';
import { BootResponder } from './lib/boot-responder.js';
import { startBenchBroker } from './lib/broker.js';
import { intFromEnv } from './lib/env.js';
import { rssBytes } from './lib/proc-stats.js';
import { spawnGateway } from '../test/harness/gateway.js';
import { sleep } from '../test/harness/time.js';

const settings = {
  connections: intFromEnv('BENCH_CONNECTIONS', 2_000, 1),
  maxPending: intFromEnv('BENCH_MAX_PENDING', 100, 1),
  baselineMs: intFromEnv('BENCH_BASELINE_MS', 3_000),
  settleMs: intFromEnv('BENCH_SETTLE_MS', 15_000, 1_000),
};

const BOOT = (id: string): string =>
  JSON.stringify([
    2,
    id,
    'BootNotification',
    { chargingStation: { vendorName: 'bench', model: 'bench-cp' }, reason: 'PowerUp' },
  ]);

/** Opens one station and resolves once its BootNotification is accepted; whether deflate was negotiated. */
function bootOne(url: string): Promise<{ ws: WebSocket; deflate: boolean }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['ocpp2.0.1'], { perMessageDeflate: true });
    ws.once('open', () => ws.send(BOOT('boot')));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as unknown[];
      if (frame[0] === 3 && frame[1] === 'boot')
        resolve({ ws, deflate: ws.extensions.includes('permessage-deflate') });
    });
    ws.once('error', reject);
  });
}

async function measure(mode: 'off' | 'shared' | 'dedicated'): Promise<Record<string, unknown>> {
  const broker = await startBenchBroker();
  const gateway = await spawnGateway(
    {
      OCPP_GW_MQTT_URL: broker.url,
      OCPP_GW_COMPRESSION: mode,
      // Every station comes from 127.0.0.1: at the default 20 upgrades/s per address, 19,000
      // stations would take a quarter of an hour per mode. Lifted as for every bench target
      // (bench/lib/targets.ts), and idle stations are not closed by the heartbeat rule meanwhile.
      OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '1000000',
      OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '1000000',
      OCPP_GW_HEARTBEAT_INTERVAL_S: '600',
    },
    30_000,
  );
  const pid = gateway.child.pid ?? 0;
  const backend = await BootResponder.start(broker.url);
  const sockets: WebSocket[] = [];
  try {
    await sleep(settings.baselineMs);
    const baseline = rssBytes(pid);
    const base = `ws://127.0.0.1:${gateway.ports.wsPort}/ocpp/`;
    let next = 0;
    let negotiated = 0;
    const worker = async (): Promise<void> => {
      while (next < settings.connections) {
        const i = next++;
        const { ws, deflate } = await bootOne(`${base}bench-${mode}-${i}`);
        sockets.push(ws);
        if (deflate) negotiated++;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: settings.maxPending }, worker));
    const bootMs = Date.now() - started;
    await sleep(settings.settleMs);
    const rss = rssBytes(pid);
    return {
      mode,
      booted: sockets.length,
      negotiated,
      baselineKiB: Math.round(baseline / 1024),
      rssKiB: Math.round(rss / 1024),
      perStationKiB: Number(((rss - baseline) / 1024 / sockets.length).toFixed(2)),
      bootMs,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await backend.stop();
    await gateway.stop('SIGKILL');
    await broker.stop();
  }
}

const results: Record<string, unknown>[] = [];
for (const mode of ['off', 'shared', 'dedicated'] as const) {
  const result = await measure(mode);
  process.stderr.write(`${JSON.stringify(result)}\n`);
  results.push(result);
}
console.log(`settings ${JSON.stringify(settings)}`);
console.log('| OCPP_GW_COMPRESSION | stations booted | deflate negotiated | RSS per station |');
console.log('|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${String(r.mode)} | ${String(r.booted)} | ${String(r.negotiated)} | ${String(r.perStationKiB)} KiB |`,
  );
}
process.exit(0);
