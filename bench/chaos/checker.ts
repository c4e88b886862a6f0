import type { ChaosEvent } from './events.js';

/**
 * Jepsen-style counts over the chaos run's event logs (bench/chaos/events.ts): for every command
 * the backend published, what became of it, per fault window and in total.
 *
 * - answered: the station's CALLRESULT reached the backend (first outcome).
 * - error reply by reason (first outcome): `gw:{reason}` from the gateway, `cp:{code}` from the
 *   station, `broker:no_subscribers` when the broker's PUBACK said nobody was subscribed.
 * - lost: no outcome at all by the end of the run (the run waits out the longest timeout).
 * - duplicated: written to a station more than once, or more than one outcome on the Reply topic.
 * - reordered: a station read it after a command of the same station with a higher seq.
 * - error though written: the first outcome is a gateway error reply, yet the station read the
 *   command (the backend is told it failed while the station may have acted on it).
 * Upstream CALLs (per station, one at a time): delivered to the backend, duplicated (delivered
 * twice), abandoned (not delivered, the station saw its socket close first: it must resend), and
 * lost (not delivered although the station's socket stayed open, or answered by nobody).
 */

export interface Row {
  sent: number;
  answered: number;
  errors: Record<string, number>;
  lost: number;
  dupWritten: number;
  dupOutcomes: number;
  reordered: number;
  errorThoughWritten: Record<string, number>;
  upSent: number;
  upDelivered: number;
  upDuplicated: number;
  upAnswered: number;
  upErrored: number;
  upAbandoned: number;
  upLost: number;
}

export interface ChaosReport {
  /** One row per fault name (every window of that fault together), in first-seen order. */
  readonly faults: ReadonlyMap<string, Row>;
  readonly total: Row;
  /** Example UniqueIds of lost commands and upstream CALLs, for a look at the logs. */
  readonly lostSamples: string[];
  readonly dupSamples: string[];
  /** Every lost command: its UniqueId and the fault window it was sent in. */
  readonly lostCommands: { uid: string; window: string }[];
}

/** The window before the first fault. */
export const STEADY = 'steady';

export function emptyRow(): Row {
  return {
    ...{ sent: 0, answered: 0, errors: {}, lost: 0, dupWritten: 0, dupOutcomes: 0, reordered: 0 },
    ...{ errorThoughWritten: {}, upSent: 0, upDelivered: 0, upDuplicated: 0, upAnswered: 0 },
    ...{ upErrored: 0, upAbandoned: 0, upLost: 0 },
  };
}

interface Command {
  sentAt: number;
  /** Reply kinds in arrival order. */
  outcomes: string[];
  written: number;
  reordered: boolean;
}

interface Upstream {
  sentAt: number;
  delivered: number;
  end: 'a' | 'e' | 'x' | 'w' | undefined;
}

const bump = (m: Record<string, number>, key: string): void => void (m[key] = (m[key] ?? 0) + 1);

export class ChaosChecker {
  private readonly commands = new Map<string, Command>();
  private readonly upstream = new Map<string, Upstream>();
  private readonly maxSeq = new Map<string, number>();
  private readonly windows: { t: number; name: string }[] = [];

  /** Events in any order across files; a station's C events in the order it read them. */
  add(e: ChaosEvent): void {
    switch (e.k) {
      case 'S':
        this.command(e.uid).sentAt = e.t;
        break;
      case 'R':
        this.command(e.uid).outcomes.push(e.kind);
        break;
      case 'C': {
        const c = this.command(e.uid);
        c.written++;
        const max = this.maxSeq.get(e.cid) ?? -1;
        if (e.seq < max) c.reordered = true;
        else this.maxSeq.set(e.cid, e.seq);
        break;
      }
      case 'u':
        this.up(e.uid).sentAt = e.t;
        break;
      case 'U':
        this.up(e.uid).delivered++;
        break;
      case 'F':
        this.windows.push({ t: e.t, name: e.name });
        break;
      case 'a':
      case 'e':
      case 'x':
      case 'w':
        // The first end a station logged counts (a late answer after a timeout is not a second end).
        this.up(e.uid).end ??= e.k;
    }
  }

  private command(uid: string): Command {
    let c = this.commands.get(uid);
    if (c === undefined) {
      c = { sentAt: Number.NaN, outcomes: [], written: 0, reordered: false };
      this.commands.set(uid, c);
    }
    return c;
  }

  private up(uid: string): Upstream {
    let u = this.upstream.get(uid);
    if (u === undefined) {
      u = { sentAt: Number.NaN, delivered: 0, end: undefined };
      this.upstream.set(uid, u);
    }
    return u;
  }

  report(sampleSize = 10): ChaosReport {
    const windows = [...this.windows].sort((a, b) => a.t - b.t);
    const faults = new Map<string, Row>([[STEADY, emptyRow()]]);
    for (const w of windows) if (!faults.has(w.name)) faults.set(w.name, emptyRow());
    const total = emptyRow();
    const windowAt = (t: number): string => {
      let name = STEADY;
      for (const w of windows) if (w.t <= t) name = w.name;
      return name;
    };
    const rowAt = (t: number): Row => faults.get(windowAt(t)) ?? total;
    const lostCommands: { uid: string; window: string }[] = [];
    const lostSamples: string[] = [];
    const dupSamples: string[] = [];
    for (const [uid, c] of this.commands) {
      // A reply or a write without a publish: a UniqueId the backend never sent (a stray).
      if (Number.isNaN(c.sentAt)) continue;
      for (const row of [rowAt(c.sentAt), total]) countCommand(row, c);
      if (c.outcomes.length === 0) lostCommands.push({ uid, window: windowAt(c.sentAt) });
      if (c.outcomes.length === 0 && lostSamples.length < sampleSize) lostSamples.push(uid);
      if ((c.written > 1 || c.outcomes.length > 1) && dupSamples.length < sampleSize) dupSamples.push(uid);
    }
    for (const [uid, u] of this.upstream) {
      if (Number.isNaN(u.sentAt)) continue;
      for (const row of [rowAt(u.sentAt), total]) countUpstream(row, u);
      if (u.delivered === 0 && isUpLost(u) && lostSamples.length < sampleSize) lostSamples.push(uid);
    }
    return { faults, total, lostSamples, dupSamples, lostCommands };
  }
}

function countCommand(row: Row, c: Command): void {
  row.sent++;
  const first = c.outcomes[0];
  if (first === undefined) row.lost++;
  else if (first === 'ok') row.answered++;
  else {
    bump(row.errors, first);
    if (c.written > 0) bump(row.errorThoughWritten, first);
  }
  if (c.written > 1) row.dupWritten++;
  if (c.outcomes.length > 1) row.dupOutcomes++;
  if (c.reordered) row.reordered++;
}

const isUpLost = (u: Upstream): boolean => u.end !== 'x' && u.end !== 'e';

function countUpstream(row: Row, u: Upstream): void {
  row.upSent++;
  if (u.delivered > 0) row.upDelivered++;
  if (u.delivered > 1) row.upDuplicated++;
  if (u.end === 'a') row.upAnswered++;
  if (u.end === 'e') row.upErrored++;
  if (u.delivered === 0 && u.end === 'x') row.upAbandoned++;
  if (u.delivered === 0 && isUpLost(u)) row.upLost++;
}
