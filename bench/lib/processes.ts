import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withTimeout } from '../../test/harness/time.js';

/** One stdout line that parsed as a JSON object (pino logs, bench child reports, ready lines). */
export type JsonLine = Record<string, unknown>;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const STDERR_TAIL_LINES = 20;

/**
 * A child process the bench owns: started with the hard file-descriptor limit as its soft limit
 * (Node cannot call setrlimit), read line by line, and always killed by {@link stopAll}.
 */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(line: JsonLine) => void>();
  private readonly stderrTail: string[] = [];
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
  ) {
    // `exec` keeps the pid, so /proc/<pid> is the program itself, not the shell.
    this.child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', command, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
    this.child.once('error', (err) => {
      this.stderrTail.push(`spawn error: ${err.message}`);
    });
    // A bench child that exits while we still write to it must not crash the bench.
    this.child.stdin?.on('error', () => {});
    createInterface({ input: this.child.stdout! }).on('line', (text) => this.onStdout(text));
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      this.stderrTail.push(text);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`[${this.name}] ${text}\n`);
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid (spawn failed)`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last lines the process wrote to stderr, for error reports. */
  stderr(): string {
    return this.stderrTail.join('\n');
  }

  onJson(listener: (line: JsonLine) => void): () => boolean {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The first JSON line from now on that satisfies `match`; rejects when the process exits first
   * or after `timeoutMs`.
   */
  waitForJson(match: (line: JsonLine) => boolean, timeoutMs: number, what: string): Promise<JsonLine> {
    let off: () => unknown = () => undefined;
    const found = new Promise<JsonLine>((resolve, reject) => {
      off = this.onJson((line) => {
        if (match(line)) resolve(line);
      });
      void this.exited.then((exit) =>
        reject(
          new Error(
            `${this.name} exited (code ${exit.code}, signal ${exit.signal}) before ${what}; stderr:\n${this.stderr()}`,
          ),
        ),
      );
    });
    return withTimeout(found, timeoutMs, `${this.name}: ${what}`).finally(off);
  }

  /** Writes one JSON command line to the child's stdin (bench children only). */
  send(command: JsonLine): void {
    if (this.running) this.child.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last resort from a synchronous `exit` handler. */
  killNow(): void {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }

  private onStdout(text: string): void {
    if (!text.startsWith('{')) return;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    if (line === null || typeof line !== 'object' || Array.isArray(line)) return;
    for (const listener of this.listeners) listener(line as JsonLine);
  }
}

const live = new Set<ManagedProcess>();

/** Stops every process the bench started, in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

/**
 * Makes sure no child outlives the bench: Ctrl-C and SIGTERM stop everything first, and a crash or
 * an early `process.exit` still SIGKILLs what is left.
 */
export function installCleanup(): void {
  process.once('exit', () => {
    for (const p of live) p.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** Environment for a child: the bench's own, minus any `OCPP_GW_*` that would leak into a target. */
export function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OCPP_GW_') && !key.startsWith('PEER_')) env[key] = value;
  }
  return { ...env, ...extra };
}
