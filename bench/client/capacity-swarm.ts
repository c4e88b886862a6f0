/**
 * Capacity-run load generator (one of several): connects and boots its share of stations from
 * its own source address (SWARM_LOCAL_ADDRESS), spread in blocks over the nodes, and has every
 * station answer each CALL at once. Reports `swarm-ready` with the booted ids. On `storm` it
 * drops every socket of the first node's block at once and reconnects them all without a rate
 * limit, retrying like stations do, then reports `storm-done` with the time until all are booted
 * again (or, at its deadline, with those still down).
 *
 * `{"cmd":"storm","count":N,"resume":true}` drops only the first N stations of that block
 * (bench/tls-capacity.ts: part of one node's stations) and, over TLS, has them offer their last
 * session ticket; `storm-done` then carries the TLS handshakes, full and resumed, of the storm.
 *
 * Environment (set by bench/capacity.ts, bench/tls-capacity.ts): the SWARM_* variables of
 * bench/lib/cp-swarm.ts, and SWARM_STORM_MAX_PENDING (stations of the storm connecting or
 * waiting for their boot reply at once; default all of them).
 */
import { createInterface } from 'node:readline';
import { connectAndBoot, swarmOptionsFromEnv, type RetryPolicy, type SimulatedCp } from '../lib/cp-swarm.js';
import { emptyBootCounts } from '../lib/swarm-protocol.js';

const ACCEPTED = '{"status":"Accepted"}';
const OPEN = 1;
const options = swarmOptionsFromEnv();
let callsAnswered = 0;

function emit(report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** Answers a CALL (OCPP-J 1.6 §4.2.1) with its CALLRESULT (§4.2.2). */
function answerCalls(cp: SimulatedCp): void {
  cp.onFrame = (text) => {
    if (!text.startsWith('[2,') || cp.socket.readyState !== OPEN) return;
    const id = /^\[2,\s*"([^"\\]*)"/.exec(text)?.[1];
    if (id === undefined) return;
    callsAnswered++;
    cp.socket.send(`[3,"${id}",${ACCEPTED}]`);
  };
}

const counts = emptyBootCounts();
// A command may reach a station between its open and its boot reply (the storm): answer from the open.
const first = await connectAndBoot({ ...options, onOpen: answerCalls }, counts);
let cps = first.cps;
emit({
  type: 'swarm-ready',
  ...counts,
  elapsedMs: first.elapsedMs,
  tlsFull: options.tls?.full ?? 0,
  tlsResumed: options.tls?.resumed ?? 0,
  cids: cps.filter((cp) => cp.booted).map((cp) => cp.id),
});

/** The first node's block: CP i goes to node floor(i * nodes / count) (cp-swarm.ts). */
const inFirstBlock = (cp: SimulatedCp): boolean =>
  Math.floor((cp.index * options.baseUrls.length) / options.count) === 0;

/**
 * The storm ends on its own well before the parent stops waiting, so `storm-done` always comes
 * with the counts of what did not reboot; `storm-progress` every few seconds shows where it stands.
 */
const STORM_DEADLINE_MS = Number(process.env.SWARM_STORM_DEADLINE_MS ?? options.deadlineMs - 30_000);
const PROGRESS_EVERY_MS = 5_000;
/**
 * Stations come back the way stations do: a refused or dropped attempt, or a boot left unanswered
 * for a minute, is tried again after a growing, randomised back-off. Without it one failed
 * handshake (a node busy past its HTTP idle timeout answers "socket hang up") is a station that
 * never returns, and "all booted again" never comes.
 */
const STORM_RETRY: RetryPolicy = {
  minWaitMs: 1_000,
  randomRangeMs: 4_000,
  maxWaitMs: 30_000,
  bootTimeoutMs: 60_000,
};

interface StormCommand {
  readonly cmd: 'storm';
  /** Stations dropped: the first `count` of the first node's block. @default the whole block */
  readonly count?: number;
  /** Over TLS: offer each station's last session ticket. @default false */
  readonly resume?: boolean;
}

async function storm(command: StormCommand): Promise<void> {
  const blockSize = Math.min(
    Math.ceil(options.count / options.baseUrls.length),
    command.count ?? Number.MAX_SAFE_INTEGER,
  );
  const dropped = cps.filter((cp) => inFirstBlock(cp) && cp.index < blockSize);
  const { tls } = options;
  const tlsBefore = { full: tls?.full ?? 0, resumed: tls?.resumed ?? 0 };
  if (tls !== undefined) tls.resume = command.resume === true;
  const started = performance.now();
  for (const cp of dropped) cp.socket.terminate();
  const stormCounts = emptyBootCounts();
  const progress = setInterval(
    () => emit({ type: 'storm-progress', ...stormCounts, elapsedMs: performance.now() - started }),
    PROGRESS_EVERY_MS,
  );
  const again = await connectAndBoot(
    {
      ...options,
      baseUrls: [options.baseUrls[0]!],
      count: blockSize,
      ratePerS: 1_000_000,
      maxPending: Number(process.env.SWARM_STORM_MAX_PENDING ?? blockSize),
      deadlineMs: STORM_DEADLINE_MS,
      retry: STORM_RETRY,
      onOpen: answerCalls,
    },
    stormCounts,
  );
  clearInterval(progress);
  const gone = new Set(dropped);
  cps = [...cps.filter((cp) => !gone.has(cp)), ...again.cps];
  emit({
    type: 'storm-done',
    dropped: dropped.length,
    ...stormCounts,
    elapsedMs: performance.now() - started,
    tlsFull: (tls?.full ?? 0) - tlsBefore.full,
    tlsResumed: (tls?.resumed ?? 0) - tlsBefore.resumed,
  });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (text) => {
  const command = JSON.parse(text) as { cmd: string };
  if (command.cmd === 'storm') void storm(command as StormCommand);
  else if (command.cmd === 'close') {
    emit({ type: 'swarm-closed', callsAnswered, closedAfterOpen: counts.closedAfterOpen });
    for (const cp of cps) cp.socket.terminate();
    process.exit(0);
  }
});
lines.on('close', () => process.exit(0));
