// Stations connect, boot and answer every downstream command. k6 cannot speak MQTT: the commands
// come from the bench backend (bench/backend, BENCH_BACKEND_COMMAND_RATE > 0), which also times
// them. With BACKEND_STATS_URL (the backend's `GET /stats`), a second scenario reads the backend's
// figures into metrics two seconds before the stations leave (later commands would meet closed
// stations and get the gateway's `offline` error reply), so the thresholds cover the command
// round trip and losses too.
//
//   BENCH_BACKEND_COMMAND_RATE=500 BENCH_BACKEND_HTTP_PORT=9100 node dist/bench/backend/main.js &
//   k6 run -e GATEWAY_URL=... -e STATIONS=200 -e BACKEND_STATS_URL=http://127.0.0.1:9100/stats bench/k6/commands.js
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Gauge } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { ocppVersion, stationId } from './lib/ocpp.js';
import { Station } from './lib/station.js';

const VERSION = ocppVersion();
const STATIONS = Number(__ENV.STATIONS || 20);
const DURATION_S = Number(__ENV.DURATION_S || 20);
const COMMAND_P99_MS = Number(__ENV.COMMAND_P99_MS || 500);
const BACKEND_STATS_URL = __ENV.BACKEND_STATS_URL || '';

const backendSent = new Counter('backend_commands_sent');
const backendLost = new Counter('backend_commands_lost');
const backendErrorReplied = new Counter('backend_commands_error_replied');
const backendP50 = new Gauge('backend_command_p50_ms');
const backendP99 = new Gauge('backend_command_p99_ms');

/** @type {Record<string, string[]>} */
const thresholds = {
  ocpp_connect_failed: ['rate==0'],
  ocpp_boot_accepted: ['rate==1'],
  ocpp_closed_by_server: ['count==0'],
  ocpp_commands_answered: ['count>0'],
};
if (BACKEND_STATS_URL !== '') {
  thresholds.backend_commands_sent = ['count>0'];
  thresholds.backend_commands_lost = ['count==0'];
  thresholds.backend_commands_error_replied = ['count==0'];
  thresholds.backend_command_p99_ms = [`value<${COMMAND_P99_MS}`];
}

/** @type {Record<string, object>} */
const scenarios = {
  stations: {
    executor: 'per-vu-iterations',
    vus: STATIONS,
    iterations: 1,
    maxDuration: `${DURATION_S + 30}s`,
  },
};
if (BACKEND_STATS_URL !== '') {
  scenarios.backend = {
    executor: 'per-vu-iterations',
    vus: 1,
    iterations: 1,
    startTime: `${Math.max(1, DURATION_S - 2)}s`,
    exec: 'readBackend',
  };
}

export const options = { scenarios, thresholds };

export default function () {
  const station = new Station(stationId(exec.vu.idInTest), VERSION, {}, {});
  setTimeout(() => station.close(), DURATION_S * 1000);
}

export function readBackend() {
  const res = http.get(BACKEND_STATS_URL);
  if (res.status !== 200) throw new Error(`${BACKEND_STATS_URL}: HTTP ${res.status}`);
  const stats = /** @type {any} */ (res.json());
  const commands = stats.commands;
  if (commands === undefined || commands === null)
    throw new Error('the backend sends no commands: set BENCH_BACKEND_COMMAND_RATE');
  console.log(`backend command stats: ${JSON.stringify(commands)}`);
  backendSent.add(commands.sent);
  // Commands still in flight at this instant are neither answered nor lost yet (`pending`).
  backendLost.add(commands.lost);
  backendErrorReplied.add(commands.errorReplied);
  if (commands.p50Ms !== undefined) backendP50.add(commands.p50Ms);
  if (commands.p99Ms !== undefined) backendP99.add(commands.p99Ms);
}
