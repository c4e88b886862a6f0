import { createInterface } from 'node:readline';

/**
 * Line protocol between the chaos runner (bench/chaos/run.ts) and its children: a child writes
 * one JSON report per line on stdout (`type`), the runner writes commands on its stdin (`cmd`).
 */
export type ChaosCommand =
  /** The node URLs now (`null`: down); stations reconnect only to live ones. */
  | { cmd: 'urls'; urls: (string | null)[] }
  /** Stalls the reader of every `every`-th station (offset `offset`) for `ms`. */
  | { cmd: 'slow'; every: number; offset: number; ms: number }
  /** Every `every`-th station moves to another node when it next reads a command, before answering. */
  | { cmd: 'hop'; every: number; offset: number }
  /** Stations with index % `of` === `node` reconnect to node `node` (after its restart). */
  | { cmd: 'rebalance'; node: number; of: number }
  /** Backend: start publishing; stations: start the upstream stream. */
  | { cmd: 'start' }
  /** Stop sending new commands / upstream CALLs. */
  | { cmd: 'quiet' }
  | { cmd: 'status' }
  | { cmd: 'close' };

export function emit(report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** stdin closing means the runner is gone: the child exits rather than linger with open sockets. */
export function onCommand(handle: (command: ChaosCommand) => void, onGone: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (text) => handle(JSON.parse(text) as ChaosCommand));
  lines.on('close', onGone);
}
