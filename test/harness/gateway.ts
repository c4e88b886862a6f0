import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import { Gateway, type GatewayPorts } from '../../src/gateway/gateway.js';
import { createLogger } from '../../src/observability/logger.js';

export type GatewayEnv = Record<string, string>;

/** Test defaults: every port picked by the OS, quiet logs. */
export const TEST_ENV: GatewayEnv = {
  OCPP_GW_PORT: '0',
  OCPP_GW_HTTP_PORT: '0',
  OCPP_GW_EMBEDDED_MQTT_PORT: '0',
  OCPP_GW_HOST: '127.0.0.1',
  OCPP_GW_HTTP_HOST: '127.0.0.1',
  OCPP_GW_EMBEDDED_MQTT_HOST: '127.0.0.1',
  OCPP_GW_LOG_LEVEL: 'error',
  OCPP_GW_NODE_ID: 'test-node',
  OCPP_GW_DRAIN_SECONDS: '0',
};

/** A gateway in the test process: real uWS listener, real MQTT connection. */
export async function startGateway(
  env: GatewayEnv = {},
): Promise<{ gateway: Gateway; ports: GatewayPorts; stop: () => Promise<void> }> {
  const config = loadConfig({ ...TEST_ENV, ...env });
  const gateway = new Gateway(config, createLogger(config));
  const ports = await gateway.start();
  return { gateway, ports, stop: () => gateway.shutdown() };
}

export const MAIN_JS = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly ports: GatewayPorts;
  readonly stdout: () => string;
  readonly stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A Unix identity to run a gateway process as (a test that cuts its traffic by owner). */
export interface ProcessIdentity {
  readonly uid: number;
  readonly gid: number;
}

/** `node dist/src/main.js` as its own process; resolves once it logs "gateway ready". */
export async function spawnGateway(
  env: GatewayEnv,
  timeoutMs = 15_000,
  identity?: ProcessIdentity,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? '', ...TEST_ENV, OCPP_GW_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(identity === undefined ? {} : { uid: identity.uid, gid: identity.gid }),
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ports = await new Promise<GatewayPorts>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway not ready in ${timeoutMs} ms: ${out}${err}`)),
      timeoutMs,
    );
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('"gateway ready"')) continue;
        clearTimeout(timer);
        const ready = JSON.parse(line) as GatewayPorts;
        resolve({
          wsPort: ready.wsPort,
          httpPort: ready.httpPort,
          mqttPort: ready.mqttPort,
          tlsPort: ready.tlsPort,
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${String(code)}: ${out}${err}`));
    });
  });
  return {
    child,
    ports,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs main.js to completion (for start-up failures); returns exit code and output. */
export function runGateway(
  env: GatewayEnv,
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not exit in ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs main.js for `forMs` and kills it, for a gateway expected to wait (Redis refusing it, say);
 * returns its stdout, the JSON log lines.
 */
export async function watchGateway(env: GatewayEnv, forMs: number, until?: RegExp): Promise<string> {
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? '', ...TEST_ENV, OCPP_GW_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // `until`: stop as soon as the output shows it (a loaded machine may take longer than usual
  // to get there; `forMs` is then the upper bound, not a fixed wait).
  let seen: () => void = () => undefined;
  const matched = new Promise<void>((resolve) => (seen = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (until?.test(out) === true) seen();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([matched, new Promise((resolve) => (timer = setTimeout(resolve, forMs)))]);
  clearTimeout(timer);
  child.kill('SIGKILL');
  await exited;
  return out;
}
