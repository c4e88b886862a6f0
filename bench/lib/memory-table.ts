import { formatInt, markdownTable, median } from './report.js';
import type { HeapBreakdown } from './heap-breakdown.js';
import type { TargetKind } from './targets.js';

/** One target's memory measurement (bench/memory.ts). */
export interface MemoryResult {
  readonly target: TargetKind;
  readonly round: number;
  readonly error?: string;
  readonly requested?: number;
  readonly opened?: number;
  readonly booted?: number;
  readonly connectErrors?: number;
  readonly bootPending?: number;
  readonly firstConnectError?: string | undefined;
  /** Sockets the target (or network) closed between boot and the end of the settle period. */
  readonly closedBeforeEnd?: number;
  readonly connectBootMs?: number;
  readonly baselineRssBytes?: number;
  readonly rssSamplesBytes?: readonly number[];
  readonly rssAfterBytes?: number;
  readonly peakRssBytes?: number;
  readonly bytesPerCp?: number;
  /** Taken after the baseline RSS and after the last settle sample (not inside the RSS figures). */
  readonly heapBaseline?: HeapBreakdown | undefined;
  readonly heapAfter?: HeapBreakdown | undefined;
  /** RSS after a forced full GC (BENCH_FORCE_GC) at baseline and at the end, and the per-CP figure. */
  readonly baselineAfterGcBytes?: number | undefined;
  readonly rssAfterGcBytes?: number | undefined;
  readonly bytesPerCpAfterGc?: number | undefined;
  /**
   * RSS after the settle period over the baseline after a forced GC: what the burst left, counted
   * from a baseline without start-up garbage, so a target that gives its own start-up garbage back
   * while settling (the gateway's heap settle, docs/architecture.md §6.8) gains nothing from it.
   */
  readonly bytesPerCpOverCollectedBaseline?: number | undefined;
}

const kib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / 1024).toFixed(2));

/** Median over the rounds per target: the figure to quote. */
function summaryRows(results: readonly MemoryResult[]): string[][] {
  const kinds = [...new Set(results.map((r) => r.target))];
  return kinds.map((kind) => {
    const runs = results.filter((r) => r.target === kind);
    const ok = runs.filter((r) => r.error === undefined && r.bytesPerCp !== undefined);
    const perCp = ok.map((r) => r.bytesPerCp!);
    const afterGc = ok.map((r) => r.bytesPerCpAfterGc).filter((v): v is number => v !== undefined);
    const booted = ok.map((r) => r.booted ?? 0);
    return [
      kind,
      `${ok.length} / ${runs.length}`,
      booted.length === 0 ? 'n/a' : `${formatInt(Math.min(...booted))} - ${formatInt(Math.max(...booted))}`,
      kib(median(perCp)),
      perCp.length === 0 ? 'n/a' : `${kib(Math.min(...perCp))} - ${kib(Math.max(...perCp))}`,
      kib(median(afterGc)),
    ];
  });
}

function row(r: MemoryResult): string[] {
  if (r.error !== undefined)
    return [
      String(r.round),
      r.target,
      `not measured: ${r.error.split('\n')[0]}`,
      ...new Array<string>(8).fill(''),
    ];
  const mib = (bytes: number | undefined): string =>
    bytes === undefined ? 'n/a' : (bytes / 2 ** 20).toFixed(1);
  return [
    String(r.round),
    r.target,
    `${formatInt(r.booted ?? 0)} / ${formatInt(r.requested ?? 0)}`,
    `${formatInt(r.connectErrors ?? 0)} / ${formatInt(r.bootPending ?? 0)} / ${formatInt(r.closedBeforeEnd ?? 0)}`,
    ((r.connectBootMs ?? 0) / 1000).toFixed(1),
    mib(r.baselineRssBytes),
    mib(r.rssAfterBytes),
    r.bytesPerCp === undefined ? 'n/a' : formatInt(r.bytesPerCp),
    r.bytesPerCp === undefined ? 'n/a' : (r.bytesPerCp / 1024).toFixed(2),
    r.bytesPerCpAfterGc === undefined ? 'n/a' : (r.bytesPerCpAfterGc / 1024).toFixed(2),
    kib(r.bytesPerCpOverCollectedBaseline),
  ];
}

/** Per booted CP: how much of the RSS growth is V8 heap (committed, live), external, or native. */
function breakdownRow(r: MemoryResult): string[] | undefined {
  const before = r.heapBaseline;
  const after = r.heapAfter;
  const n = r.booted ?? 0;
  if (before === undefined || after === undefined || n === 0 || r.bytesPerCp === undefined) return undefined;
  const per = (a: number, b: number): number => (a - b) / n;
  const heapCommitted = per(after.heapTotalBytes, before.heapTotalBytes);
  const newSpace =
    after.newSpaceTotalBytes === undefined || before.newSpaceTotalBytes === undefined
      ? undefined
      : per(after.newSpaceTotalBytes, before.newSpaceTotalBytes);
  return [
    String(r.round),
    r.target,
    formatInt(r.bytesPerCp),
    formatInt(heapCommitted),
    newSpace === undefined ? 'n/a' : formatInt(newSpace),
    formatInt(per(after.heapUsedBytes, before.heapUsedBytes)),
    formatInt(per(after.externalBytes, before.externalBytes)),
    formatInt(r.bytesPerCp - heapCommitted),
  ];
}

/** The headline table and the split of RSS growth, as printed and pasted into RESULTS.md. */
export function memoryTables(results: readonly MemoryResult[]): string {
  return `${markdownTable(
    [
      'target',
      'runs ok',
      'booted',
      'KiB per CP (median)',
      'KiB per CP (min - max)',
      'after full GC (median)',
    ],
    summaryRows(results),
  )}\n\nEvery run:\n\n${markdownTable(
    [
      'round',
      'target',
      'booted / requested',
      'connect errors / boot pending / closed early',
      'connect+boot s',
      'baseline RSS MiB',
      'RSS after MiB',
      'bytes per CP',
      'KiB per CP',
      'KiB per CP after full GC',
      'KiB per CP over collected baseline',
    ],
    results.map(row),
  )}\n\nRSS growth per CP, split (bytes):\n\n${markdownTable(
    [
      'round',
      'target',
      'RSS',
      'V8 heap committed',
      'of which young gen.',
      'V8 heap used',
      'external',
      'RSS - heap committed (native)',
    ],
    results.map(breakdownRow).filter((r): r is string[] => r !== undefined),
  )}`;
}
