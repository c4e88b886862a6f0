import { fileURLToPath } from 'node:url';
import { ManagedProcess, childEnv } from './processes.js';

/** Sockets one process may hold: the hard limit is 20,000 descriptors, minus headroom for Node itself. */
export const MAX_SOCKETS_PER_PROCESS = 19_000;

/** Scripts in bench/client/; `command-backend` is the routing bench's MQTT side, the rest hold CPs. */
export type LoadGeneratorScript = 'boot-swarm' | 'call-stream' | 'call-responder' | 'command-backend';

/** Starts a load generator from dist/bench/client/ in its own process, never inside the target's. */
export function spawnLoadGenerator(
  script: LoadGeneratorScript,
  name: string,
  env: Readonly<Record<string, string>>,
): ManagedProcess {
  const file = fileURLToPath(new URL(`../client/${script}.js`, import.meta.url));
  return new ManagedProcess(name, process.execPath, [file], childEnv(env));
}

/** Splits `total` into `parts` integers that differ by at most one. */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
