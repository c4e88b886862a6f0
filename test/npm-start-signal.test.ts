import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { TEST_ENV } from './harness/gateway.js';
import { canConnect } from './harness/ports.js';
import { sleep } from './harness/time.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** `npm start` builds first (prestart): allow for a cold TypeScript build on a busy machine. */
const READY_MS = 120_000;
const STATIONS = 20;
const DRAIN_S = 4;

/** Parent pid of a process, from /proc/<pid>/stat (undefined once it is gone). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Every process below `root` (children, grandchildren...). */
function descendants(root: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const found = new Set<number>([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const pid of all) {
      const parent = parentOf(pid);
      if (!found.has(pid) && parent !== undefined && found.has(parent)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  found.delete(root);
  return [...found];
}

const alive = (pid: number): boolean => parentOf(pid) !== undefined;

const leftovers: number[] = [];
after(() => {
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('SIGTERM to the pid of `npm start`, as a supervisor sends it', () => {
  it('reaches the gateway: 1012 for the stations, /readyz 503 while draining, npm exits 0, nothing left', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OCPP_GW_')) env[key] = value;
    const npm = spawn('npm', ['start'], {
      cwd: REPO,
      env: { ...env, ...TEST_ENV, OCPP_GW_LOG_LEVEL: 'info', OCPP_GW_DRAIN_SECONDS: String(DRAIN_S) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const npmPid = npm.pid ?? 0;
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      npm.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const deadline = Date.now() + READY_MS;
    let ready: { wsPort: number; httpPort: number } | undefined;
    while (ready === undefined) {
      const line = out.split('\n').find((l) => l.includes('"gateway ready"'));
      if (line !== undefined) ready = JSON.parse(line) as { wsPort: number; httpPort: number };
      else if (npm.exitCode !== null || Date.now() > deadline) assert.fail(`npm start not ready:\n${out}`);
      else await sleep(100);
    }
    const below = descendants(npmPid);
    leftovers.push(...below);
    assert.ok(below.length > 0, 'the gateway runs below npm');

    const http = `http://127.0.0.1:${ready.httpPort}`;
    assert.equal((await fetch(`${http}/readyz`)).status, 200);
    const stations = await Promise.all(
      Array.from({ length: STATIONS }, (_, i) =>
        ChargePoint.connect(`ws://127.0.0.1:${ready.wsPort}/ocpp/npm-cp-${i}`),
      ),
    );

    process.kill(npmPid, 'SIGTERM');
    // The drain spreads the closes over DRAIN_S seconds: readiness must say 503 meanwhile.
    let readiness: number | undefined;
    for (let i = 0; i < 30 && readiness !== 503; i++) {
      readiness = (await fetch(`${http}/readyz`)).status;
      if (readiness !== 503) await sleep(100);
    }
    assert.equal(readiness, 503, '/readyz answers 503 during the drain');
    const closes = await Promise.all(stations.map((cp) => cp.waitClose(DRAIN_S * 1000 + 5000)));
    assert.deepEqual([...new Set(closes.map((c) => c.code))], [1012]);

    const exit = await Promise.race([exited, sleep(DRAIN_S * 1000 + 15_000).then(() => undefined)]);
    assert.deepEqual(exit, { code: 0, signal: null }, `npm exit:\n${out.slice(-1500)}`);
    await sleep(200);
    assert.deepEqual(below.filter(alive), [], 'no process of npm start is left');
    assert.equal(await canConnect(ready.wsPort), false, 'the WebSocket port is free');
    assert.equal(await canConnect(ready.httpPort), false, 'the HTTP port is free');
  });
});
