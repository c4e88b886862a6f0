import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAIN_JS, TEST_ENV } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { freePort } from './harness/ports.js';
import { rawUpgrade } from './harness/raw-upgrade.js';
import { sleep } from './harness/time.js';

/**
 * Issue 8 item 5: at the descriptor limit, upgrades hung, /healthz stopped answering, a core
 * spun on failing accept() calls and nothing was logged. A gateway process under
 * `ulimit -n 256` with the default reserve (128): cap 128, high-water 192, low-water 96.
 */
const LIMIT = 256;

interface Spawned {
  readonly child: ChildProcess;
  readonly wsPort: number;
  readonly httpPort: number;
  readonly stdout: () => string;
}

async function spawnLimited(env: Record<string, string>): Promise<Spawned> {
  const child = spawn('bash', ['-c', `ulimit -n ${LIMIT}; exec "$0" "$1"`, process.execPath, MAIN_JS], {
    env: { PATH: process.env.PATH ?? '', ...TEST_ENV, OCPP_GW_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 150; i++) {
    const ready = out.split('\n').find((line) => line.includes('"gateway ready"'));
    if (ready !== undefined) {
      const { wsPort, httpPort } = JSON.parse(ready) as { wsPort: number; httpPort: number };
      return { child, wsPort, httpPort, stdout: () => out };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`gateway not ready: ${out}`);
}

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** utime + stime of a process, in seconds (proc(5): fields 14 and 15, at 100 ticks/s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function status(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
  } catch (error) {
    return String((error as Error).cause ?? error);
  }
}

async function upgrade(
  port: number,
  id: string,
): Promise<{ status: number | string; body: string; socket?: Socket }> {
  try {
    const answer = await rawUpgrade(port, `/ocpp/${id}`, { timeoutMs: 2000 });
    return { status: answer.status, body: answer.body, socket: answer.socket };
  } catch (error) {
    return { status: (error as Error).message, body: '' };
  }
}

function tcpConnect(port: number): Promise<{ socket: Socket; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve({ socket }));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ socket, error: error.code }));
  });
}

const lines = (out: string, msg: string): Array<{ level: number }> =>
  out
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as { level: number });

describe(`descriptor exhaustion under ulimit -n ${LIMIT}`, () => {
  let broker: Mosquitto;
  let gw: Spawned;
  let pid: number;
  const held: Socket[] = [];
  before(async () => {
    broker = await Mosquitto.start();
    // A fixed port, as in production: uSockets sets SO_REUSEADDR only when the port is not 0,
    // and without it the closed connections in TIME_WAIT would keep the listener from reopening.
    gw = await spawnLimited({ OCPP_GW_MQTT_URL: broker.url, OCPP_GW_PORT: String(await freePort()) });
    pid = gw.child.pid ?? 0;
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    gw.child.kill('SIGKILL');
    await broker.stop();
  });

  it('refuses upgrades past the cap with 503 fd_limit instead of hanging', async () => {
    let accepted = 0;
    let refusal: { status: number | string; body: string } | undefined;
    for (let i = 0; i < LIMIT && refusal === undefined; i++) {
      const answer = await upgrade(gw.wsPort, `fd${i}`);
      if (answer.socket !== undefined) held.push(answer.socket);
      if (answer.status === 101) accepted++;
      else refusal = { status: answer.status, body: answer.body };
    }
    assert.deepEqual(refusal, { status: 503, body: 'fd_limit' });
    assert.ok(accepted > 50, `${accepted} upgrades before the cap`);
    assert.ok(openFds(pid) <= LIMIT - 128 + 2, `at the cap: ${openFds(pid)} descriptors open`);
    for (let i = 0; i < 5; i++) {
      const again = await upgrade(gw.wsPort, `more${i}`);
      assert.deepEqual([again.status, again.body], [503, 'fd_limit']);
    }
  });

  it('keeps /healthz answering at the cap', async () => {
    assert.equal(await status(`http://127.0.0.1:${gw.httpPort}/healthz`), 200);
  });

  it('stops accepting TCP before the limit: connections that never upgrade are refused, no core spins', async () => {
    let refused: string | undefined;
    for (let i = 0; i < LIMIT && refused === undefined; i++) {
      const { socket, error } = await tcpConnect(gw.wsPort);
      held.push(socket);
      refused = error;
    }
    // Refused by the kernel: nothing listens (or, queued when the listener closed, reset).
    assert.match(String(refused), /^(ECONNREFUSED|ECONNRESET)$/);
    const open = openFds(pid);
    assert.ok(open <= LIMIT - 64 + 1, `listener closed at the high-water mark (${open} open)`);
    const cpuBefore = cpuSeconds(pid);
    await sleep(1000);
    const cpu = cpuSeconds(pid) - cpuBefore;
    assert.ok(cpu < 0.5, `${cpu} s of CPU in 1 s while refusing`);
    assert.equal(await status(`http://127.0.0.1:${gw.httpPort}/healthz`), 200);
    assert.equal(await status(`http://127.0.0.1:${gw.httpPort}/readyz`), 200, 'MQTT still connected');
  });

  it('logs the cap once at warn, and the high-water mark', () => {
    const capped = lines(gw.stdout(), 'descriptor cap reached: upgrades refused with 503');
    assert.deepEqual(
      capped.map((l) => l.level),
      [40],
    );
    assert.deepEqual(
      lines(gw.stdout(), 'descriptor high-water mark: listener closed').map((l) => l.level),
      [40],
    );
  });

  it('accepts upgrades again once sockets close, and logs that once', async () => {
    for (const socket of held.splice(0)) socket.destroy();
    let answer = await upgrade(gw.wsPort, 'after');
    for (let i = 0; i < 50 && answer.status !== 101; i++) {
      await sleep(100);
      answer = await upgrade(gw.wsPort, 'after');
    }
    answer.socket?.destroy();
    assert.equal(answer.status, 101, gw.stdout().split('\n').slice(-5).join('\n'));
    assert.equal(lines(gw.stdout(), 'descriptors under the cap again: upgrades accepted').length, 1);
    assert.equal(lines(gw.stdout(), 'descriptor cap reached: upgrades refused with 503').length, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    const refusals = /ocpp_gateway_upgrades_total\{outcome="rejected",reason="fd_limit"\} (\d+)/.exec(
      metrics,
    )?.[1];
    assert.ok(Number(refusals) >= 6, `fd_limit refusals counted: ${refusals}`);
  });
});
