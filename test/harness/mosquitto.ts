import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort } from './ports.js';

const BINARIES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', 'mosquitto'];

/** Every broker still running, killed when the process exits (a test or bench that crashed before stop()). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A real mosquitto process on a free loopback port, for tests and benches. */
export class Mosquitto {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly configFile: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The broker's process id, for readings from /proc (the benches' CPU time). */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`mosquitto on ${this.port} is not running`);
    return pid;
  }

  /** `extraConfig`: mosquitto.conf lines appended to the defaults, e.g. the benches' tuning. */
  static async start(extraConfig: readonly string[] = []): Promise<Mosquitto> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mosq-'));
    const configFile = join(dir, 'mosquitto.conf');
    writeFileSync(
      configFile,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        'max_queued_messages 100000',
        'log_type error',
        ...extraConfig,
        '',
      ].join('\n'),
    );
    const broker = new Mosquitto(port, configFile);
    await broker.launch();
    return broker;
  }

  private async launch(): Promise<void> {
    const binary = BINARIES.find((b) => existsSync(b)) ?? 'mosquitto';
    this.child = spawn(binary, ['-c', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    const child = this.child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (await canConnect(this.port)) return;
      if (this.child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`mosquitto did not start on ${this.port}: ${stderr}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * SIGTERM (mosquitto saves its persistence file, with `persistence true`, and exits), then a
   * start on the same port after `downMs`.
   */
  async restartGraceful(downMs = 0): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    this.child = undefined;
    if (downMs > 0) await sleep(downMs);
    await this.launch();
  }

  /** SIGSTOP: the broker keeps its sockets open and answers nothing (a hung broker). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await sleep(downMs);
    await this.launch();
  }
}
