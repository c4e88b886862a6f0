/**
 * TLS + Basic auth cost (issue 10): the gateway's wss listener against a `ws`-based peer doing the
 * same TLS and the same hash per upgrade (bench/peer/ws-tls-auth.ts), same run, same machine.
 *
 * Per target: (1) full TLS handshakes + Basic auth per second for BENCH_HANDSHAKE_S seconds,
 * BENCH_CONCURRENCY at a time, each connection a station not seen before (no session reuse, no
 * verified-credential cache hit), closed once open; (2) BENCH_STATIONS stations connected and
 * held: RSS per connected (not booted) station over TLS; (3) a reconnect storm: every held
 * socket dropped at once and all stations reconnected, BENCH_CONCURRENCY at a time, with the
 * target's CPU time for the storm. CPU from /proc/<pid>/stat. The load generator is this one
 * process (Node's TLS client), so rates are what one generator process drives, a floor for the
 * target. Run: `node dist/bench/tls-auth.js`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { setSecret } from '../src/auth/record.js';
import { intFromEnv } from './lib/env.js';
import { cpuSeconds, rssBytes } from './lib/proc-stats.js';
import { writeResult } from './lib/report.js';
import { spawnGateway } from '../test/harness/gateway.js';
import { Mosquitto } from '../test/harness/mosquitto.js';
import { makeTlsFiles } from '../test/harness/tls-certs.js';
import { sleep } from '../test/harness/time.js';

const settings = {
  stations: intFromEnv('BENCH_STATIONS', 10_000, 1),
  handshakeS: intFromEnv('BENCH_HANDSHAKE_S', 10, 1),
  concurrency: intFromEnv('BENCH_CONCURRENCY', 64, 1),
};
const PEER_JS = fileURLToPath(new URL('./peer/ws-tls-auth.js', import.meta.url));

const password = (i: number): string => `bench-station-password-${String(i).padStart(6, '0')}`;
const cid = (i: number): string => `TLS${String(i).padStart(6, '0')}`;

interface Target {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

function connect(port: number, ca: Buffer, i: number): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ocpp/${cid(i)}`, ['ocpp1.6'], {
      ca,
      headers: { authorization: `Basic ${Buffer.from(`${cid(i)}:${password(i)}`).toString('base64')}` },
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', () => resolve(undefined));
    ws.once('unexpected-response', () => resolve(undefined));
  });
}

/** Runs `count` connects (or until `until`), `concurrency` at a time; returns the open sockets. */
async function connectMany(
  port: number,
  ca: Buffer,
  ids: (n: number) => number,
  count: number,
  keep: boolean,
  until = Infinity,
): Promise<{ open: WebSocket[]; ok: number; failed: number }> {
  const open: WebSocket[] = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < until) {
      const ws = await connect(port, ca, ids((next += 1) - 1));
      if (ws === undefined) failed += 1;
      else {
        ok += 1;
        if (keep) open.push(ws);
        else ws.terminate();
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  return { open, ok, failed };
}

async function measure(target: Target, ca: Buffer): Promise<Record<string, unknown>> {
  const { pid, port } = target;
  await sleep(2_000);
  const baseline = rssBytes(pid);
  // (1) Handshakes: stations counted from the top, never reused in this phase.
  let cpu = cpuSeconds(pid);
  let started = performance.now();
  const shakes = await connectMany(
    port,
    ca,
    (n) => settings.stations - 1 - (n % settings.stations),
    Number.MAX_SAFE_INTEGER,
    false,
    started + settings.handshakeS * 1000,
  );
  const shakeS = (performance.now() - started) / 1000;
  const shakeCpu = cpuSeconds(pid) - cpu;
  await sleep(3_000);
  // (2) Every station connected and held.
  const held = await connectMany(port, ca, (n) => n, settings.stations, true);
  await sleep(5_000);
  const heldRss = rssBytes(pid);
  // (3) The storm: all dropped at once, all back.
  for (const ws of held.open) ws.terminate();
  await sleep(2_000);
  cpu = cpuSeconds(pid);
  started = performance.now();
  const storm = await connectMany(port, ca, (n) => n, settings.stations, true);
  const stormS = (performance.now() - started) / 1000;
  const stormCpu = cpuSeconds(pid) - cpu;
  for (const ws of storm.open) ws.terminate();
  return {
    target: target.name,
    handshakes: shakes.ok,
    handshakeFailures: shakes.failed,
    handshakesPerS: shakes.ok / shakeS,
    cpuPerHandshakeUs: (shakeCpu / shakes.ok) * 1e6,
    targetCpuShare: shakeCpu / shakeS,
    held: held.ok,
    heldFailures: held.failed,
    baselineMiB: baseline / 2 ** 20,
    heldMiB: heldRss / 2 ** 20,
    bytesPerHeldStation: (heldRss - baseline) / held.ok,
    stormReconnected: storm.ok,
    stormFailures: storm.failed,
    stormSeconds: stormS,
    stormCpuSeconds: stormCpu,
    stormCpuPerStationUs: (stormCpu / storm.ok) * 1e6,
  };
}

async function startPeer(cert: string, key: string, authFile: string): Promise<Target> {
  const child = spawn(process.execPath, [PEER_JS, cert, key, authFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`peer exited ${String(code)}`)));
  });
  return {
    name: 'ws peer',
    pid: child.pid ?? 0,
    port,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const files = makeTlsFiles();
  const ca = readFileSync(files.caCert);
  const dir = mkdtempSync(join(tmpdir(), 'bench-tls-auth-'));
  const authFile = join(dir, 'credentials.json');
  const stations: Record<string, unknown> = {};
  for (let i = 0; i < settings.stations; i += 1)
    stations[cid(i)] = setSecret(undefined, Buffer.from(password(i)), 1);
  writeFileSync(authFile, JSON.stringify({ v: 1, stations }));
  const results: Record<string, unknown>[] = [];

  const broker = await Mosquitto.start(['max_connections -1']);
  const gw = await spawnGateway({
    OCPP_GW_MQTT_URL: broker.url,
    OCPP_GW_NODE_ID: 'bench-tls',
    OCPP_GW_LOG_LEVEL: 'info',
    OCPP_GW_AUTH_MODE: 'basic',
    OCPP_GW_AUTH_FILE: authFile,
    OCPP_GW_TLS_CERT_FILE: files.serverCert,
    OCPP_GW_TLS_KEY_FILE: files.serverKey,
    OCPP_GW_TLS_PORT: '0',
    OCPP_GW_HEARTBEAT_INTERVAL_S: '600',
    OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '1000000',
    OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '1000000',
  });
  const gateway: Target = {
    name: 'gateway',
    pid: gw.child.pid ?? 0,
    port: gw.ports.tlsPort ?? 0,
    stop: async () => {
      await gw.stop();
    },
  };
  results.push(await measure(gateway, ca));
  await gateway.stop();
  await broker.stop();

  const peer = await startPeer(files.serverCert, files.serverKey, authFile);
  results.push(await measure(peer, ca));
  await peer.stop();

  const generatorCpuS = process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  const file = writeResult('tls-auth', { settings, results, generatorCpuS });
  process.stdout.write(`${JSON.stringify({ settings, results, generatorCpuS, file }, null, 2)}\n`);
}

await main();
