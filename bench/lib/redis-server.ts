import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ManagedProcess, childEnv } from './processes.js';
import { sleep } from './time.js';

const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;
const LOG_FILE = 'redis.log';

/**
 * Settings for the cluster bench's Redis, fresh for every measurement:
 *
 * - `--save '' --appendonly no`: no RDB snapshots, no AOF; the registry and the route bus live in
 *   memory only, so no fork or fsync lands in the middle of a measured window.
 * - `--bind 127.0.0.1`, a free port: loopback only, nothing else on the machine can reach it.
 * - `--dir` a private temp dir: nothing is written to the working directory, even on shutdown.
 * - `--loglevel warning` into a file in that dir: nothing per client, and the error report of a
 *   failed start (port taken) can quote it; Node's stdio pipes are sockets, which Redis cannot
 *   open as a log file.
 */
function args(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', '127.0.0.1'],
    ...['--save', '', '--appendonly', 'no'],
    ...['--dir', dir, '--loglevel', 'warning', '--logfile', join(dir, LOG_FILE)],
  ];
}

export interface Redis {
  /** `redis://127.0.0.1:<port>` for `OCPP_GW_REDIS_URL`. */
  readonly url: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Sends `PING` over raw TCP and resolves true on `+PONG`. Raw, so the bench needs no Redis client
 * of its own and a server that is still starting logs nothing.
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(reply.startsWith('+PONG')));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data: Buffer) => {
      reply += data.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Starts a private redis-server on a free loopback port and waits until it answers PING. */
export async function startRedis(): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const port = await freePort();
  const proc = new ManagedProcess('redis-server', REDIS_SERVER, args(port, dir), childEnv({}));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (!proc.running || Date.now() > deadline) {
      await proc.stop();
      const log = existsSync(join(dir, LOG_FILE)) ? readFileSync(join(dir, LOG_FILE), 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port}; log:\n${log}${proc.stderr()}`);
    }
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    process: proc,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
