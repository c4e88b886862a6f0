/**
 * Runs one k6 script of bench/k6/ on this machine against a private stack: mosquitto, one gateway
 * and the bench backend, all on free loopback ports, stopped at the end.
 *
 *   npm run build && node dist/bench/k6-local.js connections.js STEPS=100,200 HOLD_S=20
 *
 * Arguments after the script are `-e` variables for k6; GATEWAY_URL and BACKEND_STATS_URL are set.
 * BENCH_BACKEND_* variables configure the backend (e.g. BENCH_BACKEND_COMMAND_RATE for commands.js).
 * The k6 binary is `K6` or `k6` on PATH. Exits with k6's code.
 */
import { findK6, runK6, startK6Stack } from './lib/k6-stack.js';
import { installCleanup, stopAll } from './lib/processes.js';

installCleanup();
const [script, ...assignments] = process.argv.slice(2);
const k6 = findK6();
if (script === undefined || k6 === undefined) {
  process.stderr.write(
    k6 === undefined
      ? 'no k6: set K6 or put k6 on PATH\n'
      : 'usage: k6-local.js <script.js> [NAME=value ...]\n',
  );
  process.exit(2);
}
const vars = Object.fromEntries(
  assignments.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] as const),
);
const backendEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    (e): e is [string, string] => e[0].startsWith('BENCH_BACKEND_') && e[1] !== undefined,
  ),
);
const stack = await startK6Stack(backendEnv);
const run = await runK6(k6, script, {
  GATEWAY_URL: stack.gatewayUrl,
  BACKEND_STATS_URL: stack.statsUrl,
  ...vars,
});
process.stdout.write(run.output);
const done = await stack.stop();
process.stdout.write(`backend: ${JSON.stringify(done)}\n`);
await stopAll();
process.exit(run.code ?? 1);
