// Resident stations ramped in steps: each connects, boots, then sends a Heartbeat every
// HEARTBEAT_S and stays until the end. Every sample is tagged with the step the station belongs
// to, and each step has its own thresholds: the capacity is the last step whose thresholds hold.
//
//   k6 run -e GATEWAY_URL=ws://127.0.0.1:33033/ocpp/ -e STEPS=500,1000,2000 bench/k6/connections.js
import { sleep } from 'k6';
import exec from 'k6/execution';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { ocppVersion, stationId } from './lib/ocpp.js';
import { Station } from './lib/station.js';

const VERSION = ocppVersion();
const STEPS = (__ENV.STEPS || '10,20').split(',').map(Number);
const RAMP_S = Number(__ENV.RAMP_S || 10);
const HOLD_S = Number(__ENV.HOLD_S || 20);
const HEARTBEAT_S = Number(__ENV.HEARTBEAT_S || 10);
const CONNECTING_P95_MS = Number(__ENV.CONNECTING_P95_MS || 1000);
const HEARTBEAT_P99_MS = Number(__ENV.HEARTBEAT_P99_MS || 500);
const TOTAL_S = STEPS.length * (RAMP_S + HOLD_S);

/** @type {Record<string, string[]>} */
const thresholds = {};
STEPS.forEach((_, i) => {
  const step = `step:${i + 1}`;
  thresholds[`ocpp_connect_failed{${step}}`] = ['rate==0'];
  thresholds[`ocpp_boot_accepted{${step}}`] = ['rate==1'];
  thresholds[`ws_connecting{${step}}`] = [`p(95)<${CONNECTING_P95_MS}`];
  thresholds[`ocpp_call_rtt{${step},action:Heartbeat}`] = [`p(99)<${HEARTBEAT_P99_MS}`];
  thresholds[`ocpp_closed_by_server{${step}}`] = ['count==0'];
});

export const options = {
  scenarios: {
    stations: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: STEPS.flatMap((target) => [
        { duration: `${RAMP_S}s`, target },
        { duration: `${HOLD_S}s`, target },
      ]),
      gracefulRampDown: '5s',
      gracefulStop: '5s',
    },
  },
  thresholds,
};

/** The step a station belongs to: the first whose size covers its VU number. */
function stepOf(/** @type {number} */ vu) {
  const index = STEPS.findIndex((size) => vu <= size);
  return String((index < 0 ? STEPS.length - 1 : index) + 1);
}

export default function () {
  const vu = exec.vu.idInTest;
  const endAt = exec.scenario.startTime + TOTAL_S * 1000;
  // A station that already left at the end must not come back for a last second.
  if (endAt - Date.now() < 2000) {
    sleep(Math.max(0, (endAt - Date.now()) / 1000) + 1);
    return;
  }
  /** @type {number | undefined} */
  let heartbeat;
  const station = new Station(
    stationId(vu),
    VERSION,
    { step: stepOf(vu) },
    {
      onBooted: () => {
        heartbeat = setInterval(() => station.call('Heartbeat', {}), HEARTBEAT_S * 1000);
      },
      onClosed: () => {
        if (heartbeat !== undefined) clearInterval(heartbeat);
      },
    },
  );
  // Leave before the scenario ends, so the last step's samples are complete and nothing is cut.
  setTimeout(() => station.close(), endAt - Date.now() - 1000);
}
