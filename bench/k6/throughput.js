// A resident population of STATIONS sends MeterValues and StatusNotification at a constant total
// RATE (CALLs/s), spread evenly over the stations; each station still has at most one CALL
// outstanding (a send that finds the previous one unanswered is counted as skipped, not queued).
//
//   k6 run -e GATEWAY_URL=... -e STATIONS=200 -e RATE=2000 -e DURATION_S=60 bench/k6/throughput.js
import exec from 'k6/execution';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { meterValuesPayload, ocppVersion, stationId, statusNotificationPayload } from './lib/ocpp.js';
import { Station } from './lib/station.js';

const VERSION = ocppVersion();
const STATIONS = Number(__ENV.STATIONS || 20);
const RATE = Number(__ENV.RATE || 100);
const DURATION_S = Number(__ENV.DURATION_S || 20);
/** One StatusNotification per this many MeterValues. */
const STATUS_EVERY = Number(__ENV.STATUS_EVERY || 10);
const CALL_P99_MS = Number(__ENV.CALL_P99_MS || 500);

export const options = {
  scenarios: {
    stations: {
      executor: 'per-vu-iterations',
      vus: STATIONS,
      iterations: 1,
      maxDuration: `${DURATION_S + 30}s`,
    },
  },
  thresholds: {
    ocpp_connect_failed: ['rate==0'],
    ocpp_boot_accepted: ['rate==1'],
    ocpp_call_errors: ['count==0'],
    ocpp_closed_by_server: ['count==0'],
    'ocpp_call_rtt{action:MeterValues}': [`p(99)<${CALL_P99_MS}`],
    // Skips mean the offered rate was not met (a CALL still unanswered one period later); more
    // than 1 % of the offered CALLs means the gateway (or the box) did not keep up.
    ocpp_calls_skipped_busy: [`count<${Math.max(1, (RATE * DURATION_S) / 100)}`],
  },
};

export default function () {
  const vu = exec.vu.idInTest;
  const periodMs = (1000 * STATIONS) / RATE;
  /** @type {number | undefined} */
  let ticker;
  let sent = 0;
  const station = new Station(
    stationId(vu),
    VERSION,
    {},
    {
      onBooted: () => {
        // Spread the stations' phases over one period, so the total rate is even, not bursty.
        setTimeout(
          () => {
            ticker = setInterval(() => {
              const status = ++sent % STATUS_EVERY === 0;
              if (status) station.call('StatusNotification', statusNotificationPayload(VERSION));
              else station.call('MeterValues', meterValuesPayload(VERSION));
            }, periodMs);
          },
          (vu % STATIONS) * (periodMs / STATIONS),
        );
        setTimeout(() => {
          if (ticker !== undefined) clearInterval(ticker);
          // Let the last CALL be answered before closing.
          setTimeout(() => station.close(), 2000);
        }, DURATION_S * 1000);
      },
      onClosed: () => {
        if (ticker !== undefined) clearInterval(ticker);
      },
    },
  );
}
