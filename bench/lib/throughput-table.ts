import { formatInt, formatMs, markdownTable, median, percent } from './report.js';
import type { TargetKind } from './targets.js';

/** One timed run of one target at one QoS (bench/throughput.ts). */
export interface ThroughputResult {
  readonly target: TargetKind;
  readonly qos: 0 | 1 | 2;
  readonly round: number;
  /** Busy cores on the machine in the second before the run started (see waitForQuietMachine). */
  readonly busyCoresBefore?: number;
  readonly error?: string;
  readonly booted?: number;
  readonly connectErrors?: number;
  readonly sent?: number;
  readonly received?: number;
  readonly lost?: number;
  readonly messagesPerS?: number;
  readonly p50Micros?: number | undefined;
  readonly p99Micros?: number | undefined;
  readonly maxSecondRate?: number;
  readonly minSecondRate?: number;
  /** CPU used in the measured window, as % of one core. */
  readonly targetCpuPercent?: number;
  readonly brokerCpuPercent?: number;
  /** All load-generator processes together. */
  readonly loadCpuPercent?: number;
  /**
   * Busy CPU on the machine outside the processes above (other programs, kernel interrupt time):
   * a run with much of it shared the 2 cores with something else and is less comparable.
   */
  readonly otherCpuPercent?: number;
  readonly closedAfterOpen?: number;
  readonly unexpectedFrames?: number;
  readonly firstUnexpectedFrame?: string | undefined;
  readonly perSecond?: readonly number[];
}

const perCpuSecond = (r: ThroughputResult): number =>
  ((r.messagesPerS ?? 0) / Math.max(1, r.targetCpuPercent ?? 100)) * 100;
/** The target's CPU time per CALL received (issue 13 asks for it beside every rate). */
const cpuMicrosPerCall = (r: ThroughputResult): number | undefined =>
  r.messagesPerS === undefined || r.messagesPerS <= 0 || r.targetCpuPercent === undefined
    ? undefined
    : (r.targetCpuPercent / 100 / r.messagesPerS) * 1e6;
const micros = (value: number | undefined): string => (value === undefined ? 'n/a' : value.toFixed(1));

/** Median per QoS and target over the rounds that completed; loss summed over all of them. */
export function summaryTable(results: readonly ThroughputResult[]): string {
  const groups = new Map<string, ThroughputResult[]>();
  for (const r of results) {
    const key = `${r.qos}|${r.target}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((runs) => {
    const ok = runs.filter((r) => r.error === undefined);
    const first = runs[0]!;
    const pick = (f: (r: ThroughputResult) => number | undefined): number[] =>
      ok.map(f).filter((v): v is number => v !== undefined);
    const rates = pick((r) => r.messagesPerS);
    const total = (f: (r: ThroughputResult) => number | undefined): string =>
      formatInt(pick(f).reduce((a, b) => a + b, 0));
    return [
      String(first.qos),
      first.target,
      `${ok.length} / ${runs.length}`,
      rates.length === 0 ? 'n/a' : formatInt(median(rates)!),
      rates.length === 0 ? 'n/a' : `${formatInt(Math.min(...rates))} - ${formatInt(Math.max(...rates))}`,
      formatMs(median(pick((r) => r.p50Micros))),
      formatMs(median(pick((r) => r.p99Micros))),
      `${total((r) => r.lost)} of ${total((r) => r.sent)}`,
      percent(median(pick((r) => r.targetCpuPercent))),
      ok.length === 0 ? 'n/a' : formatInt(median(ok.map(perCpuSecond))!),
      micros(median(pick(cpuMicrosPerCall))),
      percent(median(pick((r) => r.otherCpuPercent))),
    ];
  });
  return markdownTable(
    [
      'QoS',
      'target',
      'runs ok',
      'CALLs/s (median)',
      'CALLs/s (min - max)',
      'p50 ms',
      'p99 ms',
      'lost',
      'target CPU',
      'CALLs per target CPU-s',
      'target CPU µs per CALL',
      'other CPU',
    ],
    rows,
  );
}

/** Every run with its own numbers and anything odd about it. */
export function runsTable(results: readonly ThroughputResult[], connections: number): string {
  const rows = results.map((r) => {
    const head = [String(r.round), String(r.qos), r.target];
    if (r.error !== undefined) {
      return [...head, `not measured: ${r.error.split('\n')[0]}`, ...new Array<string>(10).fill('')];
    }
    const notes = [
      r.booted === connections ? '' : `booted ${r.booted}/${connections}`,
      r.closedAfterOpen === 0 ? '' : `${r.closedAfterOpen} closed`,
      r.unexpectedFrames === 0 ? '' : `${r.unexpectedFrames} unexpected frames`,
    ].filter((n) => n !== '');
    return [
      ...head,
      formatInt(r.messagesPerS ?? 0),
      formatMs(r.p50Micros),
      formatMs(r.p99Micros),
      `${formatInt(r.sent ?? 0)} / ${formatInt(r.received ?? 0)}`,
      formatInt(r.lost ?? 0),
      percent(r.targetCpuPercent),
      micros(cpuMicrosPerCall(r)),
      percent(r.brokerCpuPercent),
      percent(r.loadCpuPercent),
      percent(r.otherCpuPercent),
      notes.join('; '),
    ];
  });
  return markdownTable(
    [
      'round',
      'QoS',
      'target',
      'CALLs/s',
      'p50 ms',
      'p99 ms',
      'sent / received',
      'lost',
      'target CPU',
      'target CPU µs per CALL',
      'broker CPU',
      'load-gen CPU',
      'other CPU',
      'notes',
    ],
    rows,
  );
}
