/**
 * `npm run bench:chaos`: the chaos run (bench/chaos/run.ts) sized by CHAOS_* variables, then the
 * checker's tables (Markdown) on stdout and the run's logs and summary.json in CHAOS_DIR.
 *
 *   CHAOS_STATIONS=3000 CHAOS_STATION_PROCESSES=2 CHAOS_WINDOW=2 CHAOS_RATE=0
 *   CHAOS_COMMANDS=1000000 CHAOS_DURATION_S=3600 CHAOS_FAULTS=kill9,drain,...
 *   CHAOS_ONCE=0 CHAOS_GAP_MS=5000 CHAOS_CUT_MS=5000 CHAOS_ANSWER_DELAY_MS=50
 *   CHAOS_UPSTREAM_MS=10000 CHAOS_DIR=bench/out/chaos-<date>
 *   CHAOS_GW_ENV='OCPP_GW_X=1;OCPP_GW_Y=2'      every node
 *   CHAOS_NODE_ENV_0='OCPP_GW_DOWNSTREAM_SUBSCRIBE=true', CHAOS_NODE_ENV_1=..., CHAOS_NODE_ENV_2=...
 *   CHAOS_BROKER_LOG=all       mosquitto's log_type(s), comma-separated, kept as CHAOS_DIR/broker.out
 */
import { execFileSync } from 'node:child_process';
import { intFromEnv, listFromEnv } from '../lib/env.js';
import { installCleanup } from '../lib/processes.js';
import { FAULTS } from './faults.js';
import { runChaos } from './run.js';
import { reportTable } from './table.js';

function envList(raw: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (raw ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return env;
}

installCleanup();
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = process.env.CHAOS_DIR ?? `bench/out/chaos-${stamp}`;
const options = {
  dir,
  stations: intFromEnv('CHAOS_STATIONS', 3000, 3),
  stationProcesses: intFromEnv('CHAOS_STATION_PROCESSES', 2, 1),
  window: intFromEnv('CHAOS_WINDOW', 2, 1),
  rate: intFromEnv('CHAOS_RATE', 0),
  commands: intFromEnv('CHAOS_COMMANDS', 1_000_000, 1),
  durationMs: intFromEnv('CHAOS_DURATION_S', 3600, 1) * 1000,
  faults: listFromEnv('CHAOS_FAULTS', FAULTS, FAULTS),
  once: process.env.CHAOS_ONCE === '1',
  gapMs: intFromEnv('CHAOS_GAP_MS', 5000),
  cutMs: intFromEnv('CHAOS_CUT_MS', 5000, 1),
  answerDelayMs: intFromEnv('CHAOS_ANSWER_DELAY_MS', 50),
  upstreamMs: intFromEnv('CHAOS_UPSTREAM_MS', 10_000),
  env: envList(process.env.CHAOS_GW_ENV),
  nodeEnv: [0, 1, 2].map((i) => envList(process.env[`CHAOS_NODE_ENV_${i}`])),
  log: (line: string) => process.stderr.write(`[chaos ${new Date().toISOString()}] ${line}\n`),
};
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
const result = await runChaos(options);
const { total } = result.report;
process.stdout.write(
  [
    `chaos run: commit ${commit}, ${new Date().toISOString()}, ${Math.round(result.elapsedMs / 1000)} s, logs in ${dir}`,
    `options: ${JSON.stringify({ ...options, log: undefined })}`,
    '',
    reportTable(result.report),
    '',
    ...result.notes.map((n) => `- ${n}`),
    '',
    `stations: ${JSON.stringify(result.stations)}`,
    `backend: ${JSON.stringify(result.backend)}`,
    `torn log lines: ${result.badLines}; lost samples: ${result.report.lostSamples.join(' ')}; duplicate samples: ${result.report.dupSamples.join(' ')}`,
    '',
  ].join('\n'),
);
process.exit(total.lost + total.upLost === 0 ? 0 : 1);
