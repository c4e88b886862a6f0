import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const SERVER_BINARIES = ['/usr/bin/redis-server', 'redis-server'];
const CLI_BINARIES = ['/usr/bin/redis-cli', 'redis-cli'];
const HOST = '127.0.0.1';
// Redis derives the cluster bus port as port + 10000; below this bound it stays a valid port.
const MAX_CLUSTER_PORT = 55_000;

/** Every redis-server still running and temp dir still present, for a test that forgot stop(). */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A real standalone redis-server on a free loopback port, without persistence. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  /** The server's process id, for readings from /proc (the benches' CPU time). */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`redis-server on ${this.port} is not running`);
    return pid;
  }

  /** False after kill() or stop(), or when the process died on its own. */
  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** `extraArgs` are redis-server options, e.g. `['--user', 'gw on >pw ~* &* +@all']` for ACLs. */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), makeTempDir('redis-'), extraArgs);
    await server.launch();
    return server;
  }

  /** Starts the process (again) on the same port; without persistence it comes back empty. */
  async launch(): Promise<void> {
    // A second process would fail to bind, but the PING check would then reach the first one.
    if (this.child !== undefined) throw new Error(`redis-server already running on ${this.port}`);
    // stop() removed the dir; a test may still launch() again after it.
    mkdirSync(this.dir, { recursive: true });
    tempDirs.add(this.dir);
    this.child = await launchRedis(this.port, ['--dir', this.dir, ...this.extraArgs]);
  }

  /** kill -9 without restarting: an outage that lasts until launch() or restart(). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await killChild(child);
  }

  /** SIGSTOP: the server keeps its sockets open and answers nothing (a hung Redis). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(downMs = 0): Promise<void> {
    await this.kill();
    if (downMs > 0) await sleep(downMs);
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    removeTempDir(this.dir);
  }
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/**
 * Real redis-server processes joined into a cluster by redis-cli: `masters` masters, each with
 * `replicas` replicas (which redis-cli assigns to masters itself).
 */
export class RedisCluster {
  /** Killed by {@link killMasterOf}: left out of the health checks. */
  private readonly dead = new Set<number>();

  private constructor(
    readonly nodes: readonly RedisNode[],
    private readonly children: ChildProcess[],
    private readonly dir: string,
    private readonly nodeTimeoutMs: number,
  ) {}

  /** The `host:port,host:port` list a gateway takes for its cluster startup nodes. */
  get nodesEnv(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  /** With replicas, `cluster-node-timeout` is 3000 ms: a dead master's replica takes over after it. */
  static async start(masters = 3, replicas = 0): Promise<RedisCluster> {
    // redis-cli --cluster create refuses fewer than 3 masters.
    if (masters < 3) throw new RangeError(`a Redis cluster needs at least 3 masters, got ${masters}`);
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < masters * (1 + replicas); i++) ports.push(await clusterPort(taken));
    const cluster = new RedisCluster(
      ports.map((port) => ({ host: HOST, port })),
      [],
      makeTempDir('redis-cluster-'),
      replicas > 0 ? 3000 : 2000,
    );
    try {
      for (const port of ports) cluster.children.push(await launchRedis(port, cluster.args(port)));
      await createCluster(ports, replicas);
      await cluster.waitUntilOk();
      if (replicas > 0) await cluster.waitForReplicas(masters * replicas);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private args(port: number): string[] {
    return [
      ...['--dir', this.dir, '--cluster-enabled', 'yes'],
      ...['--cluster-node-timeout', String(this.nodeTimeoutMs)],
      ...['--cluster-config-file', join(this.dir, `nodes-${port}.conf`)],
      // A replica refuses to fail over when its data looks too old (replica-validity-factor x
      // node timeout since it last heard its master); on a loaded test machine the first sync can
      // take longer than that. 0: a replica always tries, which is what a failover test asserts.
      ...['--cluster-replica-validity-factor', '0'],
      // The nodes share one directory: each keeps its own snapshot file, and a replica loads its
      // master's snapshot from the socket without writing one. A snapshot a replica had written
      // was read back by every node restarted "empty"; a node holding keys of slots it does not
      // own marks them importing (Redis 7 verifyClusterConfigWithData) and the cluster stays
      // failed: the chaos run's "not ok after 30000 ms".
      ...['--dbfilename', `dump-${port}.rdb`, '--repl-diskless-load', 'on-empty-db'],
    ];
  }

  /** Without persistence a killed node comes back empty: no snapshot of it may be read back. */
  private forgetData(port: number): void {
    rmSync(join(this.dir, `dump-${port}.rdb`), { force: true });
  }

  /** Every replica attached and synced to its master (`master_link_status:up`). */
  private async waitForReplicas(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const infos = await Promise.all(this.nodes.map((n) => ask(n.port, 'INFO replication')));
      if (infos.filter((info) => info?.includes('master_link_status:up')).length >= count) return;
      await sleep(100);
    }
    throw new Error(`Redis cluster ${this.nodesEnv}: ${count} replicas not in sync after ${timeoutMs} ms`);
  }

  /**
   * kill -9 of one master and a start on the same port: it keeps its slots (nodes.conf) but,
   * without persistence or a replica, comes back empty, while the other masters keep theirs.
   */
  async restartMaster(index: number): Promise<void> {
    const node = this.nodes[index];
    const child = this.children[index];
    if (node === undefined || child === undefined) throw new RangeError(`no master ${index}`);
    await killChild(child);
    this.forgetData(node.port);
    this.children[index] = await launchRedis(node.port, this.args(node.port));
    await this.waitUntilOk();
  }

  /** The port of the master that serves `key`'s slot now (a route-bus channel, say). */
  async masterOf(key: string): Promise<number> {
    const alive = this.nodes.filter((n) => !this.dead.has(n.port));
    const slot = Number((await ask(alive[0]?.port ?? 0, `CLUSTER KEYSLOT ${key}`))?.slice(1));
    for (const node of alive) {
      const table = await ask(node.port, 'CLUSTER NODES');
      for (const line of table?.split('\n') ?? []) {
        const [, address, flags, , , , , , ...ranges] = line.split(' ');
        if (flags === undefined || !flags.includes('master') || flags.includes('fail')) continue;
        const covers = ranges.some((r) => {
          const [lo, hi] = r.split('-').map(Number);
          return lo !== undefined && slot >= lo && slot <= (hi ?? lo);
        });
        if (covers) return Number(address?.split('@')[0]?.split(':')[1]);
      }
    }
    throw new Error(`no master serves ${key} (slot ${slot})`);
  }

  /**
   * kill -9 of the master serving `key`, not restarted: its replica is promoted after the node
   * timeout. Resolves once the cluster is ok again (the new master in place); returns the port killed.
   */
  async killMasterOf(key: string, timeoutMs = 20_000): Promise<number> {
    const port = await this.masterOf(key);
    const index = this.nodes.findIndex((n) => n.port === port);
    const child = this.children[index];
    if (child === undefined) throw new RangeError(`no process on ${port}`);
    this.dead.add(port);
    await killChild(child);
    await this.waitUntilOk(timeoutMs, port);
    return port;
  }

  /** Every live node sees `gone` failed or without slots: a replica took them over. */
  private async masterOfSlotsMoved(gone: number): Promise<boolean> {
    const alive = this.nodes.filter((n) => !this.dead.has(n.port));
    const tables = await Promise.all(alive.map((n) => ask(n.port, 'CLUSTER NODES')));
    return tables.every((table) => {
      if (table === undefined) return false;
      const line = table.split('\n').find((l) => l.split(' ')[1]?.startsWith(`${HOST}:${gone}@`));
      const fields = line?.split(' ') ?? [];
      return line === undefined || fields[2]?.split(',').includes('fail') === true || fields.length <= 8;
    });
  }

  /**
   * Starts a node killed by {@link killMasterOf} again on its port: from its nodes.conf it rejoins
   * the cluster, finds its slots taken over and becomes a replica of the promoted node.
   */
  async revive(port: number, timeoutMs = 20_000): Promise<void> {
    const index = this.nodes.findIndex((n) => n.port === port);
    if (index < 0 || !this.dead.has(port)) throw new RangeError(`no killed node on ${port}`);
    this.forgetData(port);
    this.children[index] = await launchRedis(port, this.args(port));
    this.dead.delete(port);
    await this.waitUntilOk(timeoutMs);
    await this.waitForReplicas(this.nodes.length / 2, timeoutMs);
  }

  /**
   * kill -9 of every node at once and a start of each on its port: the cluster comes back with
   * its slot map (nodes.conf) and no data at all, as after a power cut without persistence.
   */
  async restartAllEmpty(timeoutMs = 30_000): Promise<void> {
    await Promise.all(this.children.map(killChild));
    for (const node of this.nodes) this.forgetData(node.port);
    for (const [i, node] of this.nodes.entries())
      this.children[i] = await launchRedis(node.port, this.args(node.port));
    this.dead.clear();
    await this.waitUntilOk(timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.splice(0).map(killChild));
    removeTempDir(this.dir);
  }

  /**
   * redis-cli returns once slots are assigned; every node must also see the whole cluster (and,
   * after a kill, no longer count `gone` as the master of its slots).
   */
  private async waitUntilOk(timeoutMs = 15_000, gone?: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const alive = this.nodes.filter((n) => !this.dead.has(n.port));
      const infos = await Promise.all(alive.map((n) => ask(n.port, 'CLUSTER INFO')));
      const moved = gone === undefined || (await this.masterOfSlotsMoved(gone));
      if (moved && infos.every((info) => info?.includes('cluster_state:ok'))) return;
      await sleep(100);
    }
    throw new Error(`Redis cluster ${this.nodesEnv} not ok after ${timeoutMs} ms`);
  }
}

function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function findBinary(candidates: readonly string[]): string {
  // The bare name (last) is left to PATH lookup by spawn.
  return candidates.find((b) => existsSync(b)) ?? candidates[candidates.length - 1] ?? '';
}

async function launchRedis(port: number, extraArgs: readonly string[]): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'];
  const child = spawn(findBinary(SERVER_BINARIES), [...args, '--loglevel', 'warning', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  let spawnError: Error | undefined;
  // Without an 'error' listener a missing binary would crash the test process instead of failing start().
  child.once('error', (err) => (spawnError = err));
  const collect = (d: Buffer): void => void (output = (output + d.toString()).slice(-4000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  for (let i = 0; i < 100; i++) {
    if ((await ask(port, 'PING')) === '+PONG') return child;
    if (spawnError !== undefined || child.exitCode !== null) break;
    await sleep(50);
  }
  await killChild(child);
  throw new Error(`redis-server did not answer PING on ${port}: ${spawnError?.message ?? output}`);
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function createCluster(ports: readonly number[], replicas: number): Promise<void> {
  const nodes = ports.map((p) => `${HOST}:${p}`);
  const args = ['--cluster', 'create', ...nodes, '--cluster-replicas', String(replicas), '--cluster-yes'];
  try {
    await promisify(execFile)(findBinary(CLI_BINARIES), args, { timeout: 30_000 });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`redis-cli --cluster create failed: ${String(err)}\n${stdout}${stderr}`);
  }
}

/** A free port whose cluster bus port (port + 10000) is free too, distinct from `taken`. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await freePort();
    if (port >= MAX_CLUSTER_PORT || taken.has(port) || taken.has(port + 10_000)) continue;
    if (!(await isFree(port + 10_000))) continue;
    taken.add(port).add(port + 10_000);
    return port;
  }
  throw new Error('no free port pair (port, port + 10000) for a Redis cluster node');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * Sends one inline command over raw TCP and returns its reply (a status line, or a bulk string's
 * body), or undefined when nothing answers. Raw, so that a server still starting logs no client errors.
 */
function ask(port: number, inline: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    let buf = Buffer.alloc(0);
    const done = (reply: string | undefined): void => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
    socket.once('connect', () => socket.write(`${inline}\r\n`));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const eol = buf.indexOf('\r\n');
      if (eol === -1) return;
      if (buf[0] !== 0x24 /* '$' bulk string */) return done(buf.subarray(0, eol).toString());
      const length = Number(buf.subarray(1, eol).toString());
      if (length < 0) return done(undefined);
      if (buf.length >= eol + 2 + length + 2) done(buf.subarray(eol + 2, eol + 2 + length).toString());
    });
  });
}
