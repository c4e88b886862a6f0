import { cpuSeconds, machineBusySeconds } from './proc-stats.js';

/** A process whose CPU time /proc can report: a bench child, the broker, Redis. */
export interface WithPid {
  readonly pid: number;
}

/** CPU time used so far by named groups of processes and by the whole machine, read at one instant. */
export interface CpuSnapshot<G extends string> {
  readonly at: number;
  readonly machine: number;
  readonly groups: Readonly<Record<G, number>>;
}

export function cpuSnapshot<G extends string>(
  groups: Readonly<Record<G, readonly WithPid[]>>,
): CpuSnapshot<G> {
  const seconds = {} as Record<G, number>;
  for (const name of Object.keys(groups) as G[]) {
    const processes: readonly WithPid[] = groups[name];
    seconds[name] = processes.reduce((total: number, p) => total + cpuSeconds(p.pid), 0);
  }
  return { at: performance.now(), machine: machineBusySeconds(), groups: seconds };
}

/**
 * CPU used per group between two snapshots, as % of one core, plus `other`: the machine's busy
 * time outside every group (other programs, kernel interrupt time). A run with much `other`
 * shared the cores with something else and is less comparable.
 */
export function cpuPercent<G extends string>(
  before: CpuSnapshot<G>,
  after: CpuSnapshot<G>,
): Record<G | 'other', number> {
  const windowS = (after.at - before.at) / 1000;
  const percent = {} as Record<G | 'other', number>;
  let counted = 0;
  for (const name of Object.keys(after.groups) as G[]) {
    const used = after.groups[name] - before.groups[name];
    counted += used;
    percent[name] = (used / windowS) * 100;
  }
  percent.other = ((after.machine - before.machine - counted) / windowS) * 100;
  return percent;
}
