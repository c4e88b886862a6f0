import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBackend, type BackendProcess } from '../backend/process.js';
import { startBenchBroker } from './broker.js';
import { startTarget, type Target } from './targets.js';
import type { Mosquitto } from '../../test/harness/mosquitto.js';

/** bench/k6/ in the source tree (the scripts are not compiled), from dist/bench/lib/. */
export const K6_DIR = fileURLToPath(new URL('../../../bench/k6/', import.meta.url));

/** The k6 binary: `K6` or the first `k6` on PATH; undefined when there is none. */
export function findK6(): string | undefined {
  const candidate = process.env.K6 ?? 'k6';
  const probe = spawnSync(candidate, ['version'], { encoding: 'utf8' });
  return probe.status === 0 ? candidate : undefined;
}

/** mosquitto + one gateway + the bench backend: what a k6 script runs against on one machine. */
export interface K6Stack {
  readonly broker: Mosquitto;
  readonly gateway: Target;
  readonly backend: BackendProcess;
  readonly gatewayUrl: string;
  readonly statsUrl: string;
  stop(): Promise<Record<string, unknown>>;
}

export async function startK6Stack(backendEnv: Readonly<Record<string, string>> = {}): Promise<K6Stack> {
  const broker = await startBenchBroker();
  const gateway = await startTarget('gateway', { mqttUrl: broker.url, qos: 1 });
  const backend = await startBackend({
    BENCH_BACKEND_MQTT_URL: broker.url,
    BENCH_BACKEND_HTTP_PORT: '0',
    BENCH_BACKEND_REPORT_S: '0',
    ...backendEnv,
  });
  return {
    broker,
    gateway,
    backend,
    gatewayUrl: `ws://127.0.0.1:${gateway.wsPort}/ocpp/`,
    statsUrl: `http://127.0.0.1:${String(backend.ready.httpPort)}/stats`,
    async stop() {
      const done = await backend.finish();
      await gateway.process.stop();
      await broker.stop();
      return done;
    },
  };
}

export interface K6Run {
  readonly code: number | null;
  /** k6's end-of-test summary (stdout) and log (stderr). */
  readonly output: string;
  /** `--summary-export` JSON: metrics with their thresholds' pass/fail. */
  readonly summary: {
    metrics: Record<string, { thresholds?: Record<string, boolean> } & Record<string, unknown>>;
  };
}

/** `k6 run` of a script in bench/k6/ with `-e` variables; resolves when k6 exits. */
export function runK6(k6: string, script: string, vars: Readonly<Record<string, string>>): Promise<K6Run> {
  const exportFile = join(mkdtempSync(join(tmpdir(), 'k6-')), 'summary.json');
  const args = ['run', '--no-color', `--summary-export=${exportFile}`];
  for (const [name, value] of Object.entries(vars)) args.push('-e', `${name}=${value}`);
  args.push(join(K6_DIR, script));
  return new Promise((resolve, reject) => {
    const child = spawn(k6, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      let summary: K6Run['summary'] = { metrics: {} };
      try {
        summary = JSON.parse(readFileSync(exportFile, 'utf8')) as K6Run['summary'];
      } catch {
        // No export when k6 failed before the test ran; the output says why.
      }
      resolve({ code, output, summary });
    });
  });
}

/** Every threshold k6 evaluated, as `metric: expression`, with its result. */
export function thresholdResults(run: K6Run): Record<string, boolean> {
  const results: Record<string, boolean> = {};
  for (const [metric, values] of Object.entries(run.summary.metrics)) {
    for (const [expression, failed] of Object.entries(values.thresholds ?? {})) {
      // --summary-export stores `true` for a threshold that was crossed (failed).
      results[`${metric}: ${expression}`] = !failed;
    }
  }
  return results;
}
