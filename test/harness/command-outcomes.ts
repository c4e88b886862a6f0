import type { ChargePoint } from './cp-client.js';
import { answerCalls, command, type ClusterFixture } from './cluster.js';
import { eventually, sleep } from './time.js';

interface ReplyJson {
  MessageTypeId: number;
  UniqueId: string;
  ErrorDetails?: { origin?: string; reason?: string };
}

/**
 * How each command ended, from what the backend saw on the Reply topics: `answered` (the CP's
 * CALLRESULT), `error:{reason}` (a gateway error reply; `error:cp` for the CP's own CALLERROR),
 * or `neither`: the silent loss every fault test asserts never happens.
 */
export function outcomes(f: ClusterFixture, ids: readonly string[]): Map<string, string> {
  const byId = new Map<string, string>();
  for (const m of f.backend.seen) {
    if (!m.topic.endsWith('/Reply')) continue;
    const j = m.json as ReplyJson;
    const kind = j.MessageTypeId === 3 ? 'answered' : `error:${j.ErrorDetails?.reason ?? 'cp'}`;
    if (!byId.has(j.UniqueId)) byId.set(j.UniqueId, kind);
  }
  return new Map(ids.map((id) => [id, byId.get(id) ?? 'neither']));
}

/** Commands the backend got more than one outcome for (an answer and an error reply, say). */
export function doubleOutcomes(f: ClusterFixture, ids: readonly string[]): string[] {
  const wanted = new Set(ids);
  const seen = new Map<string, number>();
  for (const m of f.backend.seen) {
    if (!m.topic.endsWith('/Reply')) continue;
    const id = (m.json as ReplyJson).UniqueId;
    if (wanted.has(id)) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

export function tally(results: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of results.values()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * A CP that answers every CALL after `answerDelayMs` (so commands are in flight when its node
 * goes away) and, when its socket closes, reconnects to another running node, as real charge
 * points do behind a load balancer.
 */
export class RoamingCp {
  cp: ChargePoint | undefined;
  private stopped = false;

  constructor(
    private readonly f: ClusterFixture,
    readonly cid: string,
    private readonly answerDelayMs = 150,
  ) {}

  async connect(index: number): Promise<void> {
    const cp = await this.f.connect(index, this.cid);
    answerCalls(cp, this.answerDelayMs);
    this.cp = cp;
    cp.ws.once('close', () => void this.roam(index));
  }

  /** Stops reconnecting (before the fixture is torn down). */
  stop(): void {
    this.stopped = true;
  }

  private async roam(from: number): Promise<void> {
    for (let attempt = 1; attempt < 50 && !this.stopped; attempt++) {
      await sleep(100);
      const alive = this.f.nodes
        .map((n, i) => (n === undefined || i === from ? -1 : i))
        .filter((i) => i >= 0);
      const target = alive[attempt % alive.length];
      if (target === undefined || this.stopped) continue;
      try {
        await this.connect(target);
        return;
      } catch {
        // that node is going away too; try the next
      }
    }
  }
}

/**
 * One command to each charge point per round, `gapMs` apart; `fault(round)` runs before a round
 * is sent (kill a node, stop one). Resolves to every UniqueId sent.
 */
export async function commandRounds(
  f: ClusterFixture,
  cids: readonly string[],
  rounds: number,
  gapMs: number,
  fault: (round: number) => Promise<void> | void = () => undefined,
  makeCommand: (uniqueId: string) => Record<string, unknown> = command,
): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < rounds; round++) {
    await fault(round);
    await Promise.all(
      cids.map((cid) => {
        const id = `r${round}-${cid}`;
        ids.push(id);
        return f.backend.publish(`ocpp/cs/${cid}`, makeCommand(id));
      }),
    );
    await sleep(gapMs);
  }
  return ids;
}

/** Waits until no command is `neither` (or `timeoutMs` passes) and tallies how they ended. */
export async function settledTally(
  f: ClusterFixture,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Record<string, number>> {
  await eventually(
    () => [...outcomes(f, ids).values()].every((kind) => kind !== 'neither'),
    timeoutMs,
    'every command answered or error-replied',
  ).catch(() => undefined);
  return tally(outcomes(f, ids));
}

/** Waits until every command is answered by its charge point; the error names the tally. */
export async function allAnswered(
  f: ClusterFixture,
  ids: readonly string[],
  timeoutMs: number,
  what: string,
): Promise<number> {
  return eventually(
    () => [...outcomes(f, ids).values()].every((k) => k === 'answered'),
    timeoutMs,
    what,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}: ${JSON.stringify(tally(outcomes(f, ids)))}`);
  });
}
