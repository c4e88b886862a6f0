/**
 * The bench backend: a CSMS behind MQTT for k6 runs, compose/helm demos and the benches.
 * `node dist/bench/backend/main.js`, configured by `BENCH_BACKEND_*` (bench/README.md).
 *
 * - answers every CALL on `ocpp/cp/{cid}` after `BENCH_BACKEND_LATENCY_MS`;
 * - with `BENCH_BACKEND_COMMAND_RATE` > 0, sends downstream commands to the stations it has seen
 *   and reports their round-trip percentiles, answered / error-replied / lost;
 * - prints `{"msg":"backend ready",...}` then a JSON stats line every `BENCH_BACKEND_REPORT_S`
 *   and `{"msg":"backend done",...}` at the end (after `BENCH_BACKEND_DURATION_S`, or on
 *   SIGTERM / SIGINT), once in-flight commands are answered or timed out.
 */
import { connectAsync } from 'mqtt';
import { CommandSender } from './command-sender.js';
import { loadBackendConfig } from './config.js';
import { CallResponder } from './responder.js';
import { startStatsServer } from './stats-server.js';

let config;
try {
  config = loadBackendConfig();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}

const client = await connectAsync(config.mqttUrl, {
  protocolVersion: 5,
  clientId: `bench-backend-${process.pid}`,
  clean: true,
  username: config.mqttUsername,
  password: config.mqttPassword,
  // A broker restart in a long demo should not end the backend.
  reconnectPeriod: 1000,
});
const filterPrefix = config.sharedGroup === undefined ? '' : `$share/${config.sharedGroup}/`;
const responder = new CallResponder(client, config.latencyMs);
await responder.start(filterPrefix);
const sender =
  config.commandRatePerS > 0
    ? new CommandSender(
        client,
        responder.stations,
        {
          ratePerS: config.commandRatePerS,
          action: config.commandAction,
          payloadJson: config.commandPayload,
          timeoutMs: config.commandTimeoutMs,
          perStationLimit: config.commandsPerStation,
        },
        (cid) => responder.forget(cid),
      )
    : undefined;
await sender?.listen(filterPrefix);

const startedAt = performance.now();
const stats = (): Record<string, unknown> => ({
  uptimeS: Math.round((performance.now() - startedAt) / 100) / 10,
  responder: { ...responder.stats },
  commands: sender?.stats(),
});
const line = (msg: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ msg, ...extra, ...stats() })}\n`);
};

const http =
  config.httpPort >= 0 ? await startStatsServer(config.httpHost, config.httpPort, stats) : undefined;
line('backend ready', { httpPort: http?.port });

const commandTimer = setTimeout(() => sender?.startSending(), config.commandDelayMs);
const reportTimer =
  config.reportEveryMs > 0 ? setInterval(() => line('backend stats'), config.reportEveryMs) : undefined;

let stopping = false;
async function finish(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearTimeout(commandTimer);
  clearInterval(reportTimer);
  await sender?.stop();
  line('backend done');
  http?.server.close();
  await client.endAsync();
  process.exit(0);
}

if (config.durationMs > 0) setTimeout(() => void finish(), config.durationMs);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void finish());
