import { fileURLToPath } from 'node:url';
import { ManagedProcess, childEnv, type JsonLine } from '../lib/processes.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
// Generous: on a shared, saturated box a Node start alone has taken over 15 s.
const READY_TIMEOUT_MS = 60_000;

/** The bench backend as a child of a bench or test, with its ready line. */
export interface BackendProcess {
  readonly process: ManagedProcess;
  readonly ready: JsonLine;
  /** SIGTERM, then the `backend done` line (in-flight commands answered or timed out). */
  finish(timeoutMs?: number): Promise<JsonLine>;
}

/** Starts `dist/bench/backend/main.js` with `env` (`BENCH_BACKEND_*`) and waits until it listens. */
export async function startBackend(env: Readonly<Record<string, string>>): Promise<BackendProcess> {
  const proc = new ManagedProcess('bench-backend', process.execPath, [MAIN], childEnv(env));
  const ready = await proc.waitForJson(
    (line) => line.msg === 'backend ready',
    READY_TIMEOUT_MS,
    'backend ready',
  );
  return {
    process: proc,
    ready,
    async finish(timeoutMs = 60_000) {
      const done = proc.waitForJson((line) => line.msg === 'backend done', timeoutMs, 'backend done');
      process.kill(proc.pid, 'SIGTERM');
      const line = await done;
      await proc.stop();
      return line;
    },
  };
}
