// Reconnect storm: STATIONS connect and boot; at STORM_AT_S every station drops its socket at the
// same instant and reconnects at once; the "storm" phase measures how long each takes to be booted
// again and how many fail. Samples are tagged phase:initial or phase:storm.
//
//   k6 run -e GATEWAY_URL=... -e STATIONS=1000 -e STORM_AT_S=20 bench/k6/storm.js
import exec from 'k6/execution';
import { setTimeout } from 'k6/timers';
import { ocppVersion, stationId } from './lib/ocpp.js';
import { Station } from './lib/station.js';

const VERSION = ocppVersion();
const STATIONS = Number(__ENV.STATIONS || 20);
const STORM_AT_S = Number(__ENV.STORM_AT_S || 10);
const HOLD_AFTER_S = Number(__ENV.HOLD_AFTER_S || 10);
const REBOOT_P95_MS = Number(__ENV.REBOOT_P95_MS || 5000);

export const options = {
  scenarios: {
    stations: {
      executor: 'per-vu-iterations',
      vus: STATIONS,
      // The first iteration lives until the storm, the second from the storm to the end.
      iterations: 2,
      maxDuration: `${STORM_AT_S + HOLD_AFTER_S + 30}s`,
    },
  },
  thresholds: {
    'ocpp_connect_failed{phase:initial}': ['rate==0'],
    'ocpp_connect_failed{phase:storm}': ['rate==0'],
    'ocpp_boot_accepted{phase:storm}': ['rate==1'],
    'ocpp_boot_time{phase:storm}': [`p(95)<${REBOOT_P95_MS}`],
    'ocpp_closed_by_server{phase:storm}': ['count==0'],
  },
};

export default function () {
  const stormAt = exec.scenario.startTime + STORM_AT_S * 1000;
  const endAt = stormAt + HOLD_AFTER_S * 1000;
  const phase = exec.vu.iterationInScenario === 0 ? 'initial' : 'storm';
  const station = new Station(stationId(exec.vu.idInTest), VERSION, { phase }, {});
  // Every station of the initial phase closes at the same wall-clock instant; its VU starts the
  // next iteration (the reconnect) right away.
  const closeAt = phase === 'initial' ? stormAt : endAt;
  setTimeout(() => station.close(), Math.max(0, closeAt - Date.now()));
}
