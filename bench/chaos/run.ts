import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayEnv } from '../../test/harness/gateway.js';
import { sleep } from '../../test/harness/time.js';
import { childEnv, ManagedProcess, type JsonLine } from '../lib/processes.js';
import type { ChaosReport } from './checker.js';
import { EventLog } from './event-log.js';
import { runFault, type Fault } from './faults.js';
import type { ChaosCommand } from './protocol.js';
import { checkRunDir } from './read-logs.js';
import { ChaosStack } from './stack.js';

export interface ChaosOptions {
  readonly dir: string;
  readonly stations: number;
  readonly stationProcesses: number;
  /** Commands in flight per station (the backend's window). */
  readonly window: number;
  /** Commands per second in all; 0: as fast as the stack answers. */
  readonly rate: number;
  /** Stop sending at this many commands (the schedule runs until then). */
  readonly commands: number;
  /** ...or after this long, whichever comes first. */
  readonly durationMs: number;
  readonly faults: readonly Fault[];
  /** Run the schedule once (the short test), or cycle it until `commands` / `durationMs`. */
  readonly once: boolean;
  /** Undisturbed time before the first fault and after each one. */
  readonly gapMs: number;
  readonly cutMs: number;
  readonly answerDelayMs: number;
  /** Each station sends one upstream DataTransfer per this interval; 0: none. */
  readonly upstreamMs: number;
  /** Added to every node's environment, then `nodeEnv[i]` to node i's. */
  readonly env: GatewayEnv;
  readonly nodeEnv: readonly GatewayEnv[];
  readonly log?: (line: string) => void;
}

export interface ChaosResult {
  readonly report: ChaosReport;
  readonly badLines: number;
  readonly notes: string[];
  readonly backend: JsonLine;
  readonly stations: JsonLine[];
  readonly elapsedMs: number;
}

const CHILD = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));
const ID_PREFIX = 'cs';

/** One chaos run: the stack, the stations, the backend, the fault schedule, then the checker. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const say = o.log ?? (() => undefined);
  const started = Date.now();
  mkdirSync(o.dir, { recursive: true });
  const callTimeoutMs = Number(o.env.OCPP_GW_CALL_TIMEOUT_MS ?? '10000');
  const stack = await ChaosStack.start(o.dir, 3, o.env, o.nodeEnv);
  const children: ManagedProcess[] = [];
  try {
    const per = Math.ceil(o.stations / o.stationProcesses);
    const stationProcs = Array.from({ length: o.stationProcesses }, (_, k) => {
      const count = Math.max(0, Math.min(per, o.stations - k * per));
      return new ManagedProcess(
        `stations-${k}`,
        process.execPath,
        [CHILD('stations')],
        childEnv({
          CHAOS_STATIONS: String(count),
          CHAOS_INDEX_OFFSET: String(k * per),
          CHAOS_ID_PREFIX: ID_PREFIX,
          CHAOS_UPSTREAM_MS: String(o.upstreamMs),
          CHAOS_URLS: stack.urls().join(','),
          CHAOS_LOG: join(o.dir, `stations-${k}.log`),
          CHAOS_ANSWER_DELAY_MS: String(o.answerDelayMs),
        }),
      );
    });
    children.push(...stationProcs);
    await Promise.all(
      stationProcs.map(async (p) => p.waitForJson((l) => l.type === 'ready', 300_000, 'ready')),
    );
    say(`${o.stations} stations connected after ${Date.now() - started} ms`);
    const backend = new ManagedProcess(
      'backend',
      process.execPath,
      [CHILD('backend')],
      childEnv({
        CHAOS_ID_PREFIX: ID_PREFIX,
        CHAOS_STATIONS: String(o.stations),
        CHAOS_WINDOW: String(o.window),
        CHAOS_RATE: String(o.rate),
        CHAOS_COMMANDS: String(o.commands),
        CHAOS_SLOT_TIMEOUT_MS: String(callTimeoutMs * 6),
        CHAOS_MQTT_URL: stack.broker.url,
        CHAOS_LOG: join(o.dir, 'backend.log'),
      }),
    );
    children.push(backend);
    await backend.waitForJson((l) => l.type === 'ready', 60_000, 'ready');
    let limitReached = false;
    backend.onJson((l) => void (l.type === 'limit' && (limitReached = true)));
    const broadcast = (command: ChaosCommand): void => stationProcs.forEach((p) => p.send(command));
    const faultLog = new EventLog(join(o.dir, 'faults.log'));
    const notes: string[] = [];
    const deadline = Date.now() + o.durationMs;
    const more = (): boolean => !limitReached && Date.now() < deadline;

    backend.send({ cmd: 'start' });
    broadcast({ cmd: 'start' });
    await sleep(o.gapMs);
    for (let pass = 0; more() && (pass === 0 || !o.once); pass++) {
      for (const fault of o.faults) {
        if (!more()) break;
        faultLog.add({ k: 'F', t: Date.now(), name: fault });
        const t0 = Date.now();
        // A fault that does not complete (a Redis Cluster slow to converge on a loaded machine)
        // is noted and the schedule goes on: the run's counts are what matters.
        await runFault(fault, {
          stack,
          stations: broadcast,
          callTimeoutMs,
          cutMs: o.cutMs,
          note: (text) => notes.push(`${fault}: ${text}`),
        }).catch((error: unknown) => notes.push(`${fault}: did not complete: ${String(error)}`));
        say(`${fault} done in ${Date.now() - t0} ms (${notes[notes.length - 1] ?? ''})`);
        await sleep(o.gapMs);
      }
    }
    faultLog.close();
    backend.send({ cmd: 'quiet' });
    broadcast({ cmd: 'quiet' });

    // Wait out the longest timeout: every command answered, error-replied, or past its slot.
    const status = async (): Promise<JsonLine> => {
      const reply = backend.waitForJson((l) => l.type === 'status', 10_000, 'status');
      backend.send({ cmd: 'status' });
      return reply;
    };
    const drainUntil = Date.now() + callTimeoutMs * 6 + 10_000;
    for (let s = await status(); Number(s.pending) > 0 && Date.now() < drainUntil; s = await status()) {
      await sleep(500);
    }
    // Late duplicates (a second outcome, a rewrite) still count.
    await sleep(3000);
    const stationDone = await Promise.all(
      stationProcs.map(async (p) => {
        const done = p.waitForJson((l) => l.type === 'closed', 30_000, 'closed');
        p.send({ cmd: 'close' });
        return done;
      }),
    );
    const backendDone = backend.waitForJson((l) => l.type === 'closed', 30_000, 'closed');
    backend.send({ cmd: 'close' });
    const backendCounts = await backendDone;
    await Promise.all(children.map(async (p) => p.exited));
    const { report, badLines } = await checkRunDir(o.dir);
    const result = {
      report,
      badLines,
      notes,
      backend: backendCounts,
      stations: stationDone,
      elapsedMs: Date.now() - started,
    };
    writeFileSync(
      join(o.dir, 'summary.json'),
      JSON.stringify(
        { ...result, report: { ...report, faults: Object.fromEntries(report.faults) } },
        null,
        2,
      ),
    );
    return result;
  } finally {
    await Promise.all(children.map(async (p) => p.stop(2000)));
    await stack.stop();
  }
}
