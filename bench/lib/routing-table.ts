import { formatInt, formatMs, markdownTable, median, percent } from './report.js';
import type { RoutingKind } from './routing-targets.js';

/** One timed run of one target (bench/routing.ts). */
export interface RoutingResult {
  readonly target: RoutingKind;
  readonly round: number;
  /** Busy cores on the machine in the second before the run started (see waitForQuietMachine). */
  readonly busyCoresBefore?: number;
  readonly error?: string;
  /** Paced mode: commands not sent because every CP had its window full. */
  readonly skipped?: number;
  readonly booted?: number;
  readonly connectErrors?: number;
  /** Commands published, answered with the CP's CALLRESULT, answered with a CALLERROR, neither. */
  readonly sent?: number;
  readonly answered?: number;
  readonly errorReplied?: number;
  readonly lost?: number;
  readonly errorReasons?: Readonly<Record<string, number>>;
  readonly firstErrorReply?: string | undefined;
  readonly unknownReplies?: number;
  readonly publishErrors?: number;
  /** CALLRESULTs per second in the window [warm-up, end of sending). */
  readonly commandsPerS?: number;
  readonly p50Micros?: number | undefined;
  readonly p99Micros?: number | undefined;
  readonly maxMicros?: number;
  readonly maxSecondRate?: number;
  readonly minSecondRate?: number;
  /** `ocpp_gateway_route_total` deltas over the run, all nodes summed (cluster only). */
  readonly routed?: Readonly<Record<string, number>> | undefined;
  /** routed.forwarded / sent: the share of commands that crossed nodes (cluster only). */
  readonly forwardedFraction?: number | undefined;
  /** Mean of `ocpp_gateway_route_roundtrip_seconds` over the run: forward -> owner's outcome. */
  readonly meanRouteRoundTripMicros?: number | undefined;
  /** CPU used in the measured window, as % of one core: all target processes together. */
  readonly targetCpuPercent?: number;
  readonly redisCpuPercent?: number | undefined;
  readonly brokerCpuPercent?: number;
  /** CP responders and the command backend together. */
  readonly loadCpuPercent?: number;
  /** Busy CPU outside the processes above: a run with much of it shared the machine. */
  readonly otherCpuPercent?: number;
  /** CALLs the CPs received and answered (should equal answered + CP-side losses). */
  readonly callsAnsweredByCps?: number;
  readonly closedAfterOpen?: number;
  readonly unexpectedFrames?: number;
  readonly firstUnexpectedFrame?: string | undefined;
  readonly perSecond?: readonly number[];
}

const fraction = (value: number | undefined): string =>
  value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} %`;
const outcomes = (sent: number, answered: number, errors: number, lost: number): string =>
  `${formatInt(sent)} / ${formatInt(answered)} / ${formatInt(errors)} / ${formatInt(lost)}`;

/** Median per target over the rounds that completed; counts summed over all of them. */
export function routingSummaryTable(results: readonly RoutingResult[]): string {
  const kinds = [...new Set(results.map((r) => r.target))];
  const rows = kinds.map((kind) => {
    const runs = results.filter((r) => r.target === kind);
    const ok = runs.filter((r) => r.error === undefined);
    const pick = (f: (r: RoutingResult) => number | undefined): number[] =>
      ok.map(f).filter((v): v is number => v !== undefined);
    const total = (f: (r: RoutingResult) => number | undefined): number => pick(f).reduce((a, b) => a + b, 0);
    const rates = pick((r) => r.commandsPerS);
    const maxima = pick((r) => r.maxMicros);
    return [
      kind,
      `${ok.length} / ${runs.length}`,
      rates.length === 0 ? 'n/a' : formatInt(median(rates)!),
      rates.length === 0 ? 'n/a' : `${formatInt(Math.min(...rates))} - ${formatInt(Math.max(...rates))}`,
      formatMs(median(pick((r) => r.p50Micros))),
      formatMs(median(pick((r) => r.p99Micros))),
      formatMs(maxima.length === 0 ? undefined : Math.max(...maxima)),
      outcomes(
        total((r) => r.sent),
        total((r) => r.answered),
        total((r) => r.errorReplied),
        total((r) => r.lost),
      ),
      fraction(median(pick((r) => r.forwardedFraction))),
      formatMs(median(pick((r) => r.meanRouteRoundTripMicros))),
      percent(median(pick((r) => r.targetCpuPercent))),
      micros(median(pick(cpuPerCommand))),
      percent(median(pick((r) => r.otherCpuPercent))),
    ];
  });
  return markdownTable(
    [
      'target',
      'runs ok',
      'commands/s (median)',
      'commands/s (min - max)',
      'p50 ms',
      'p99 ms',
      'max ms (worst run)',
      'sent / answered / error-replied / lost',
      'forwarded',
      'route bus round trip ms (mean)',
      'target CPU',
      'target CPU µs per command',
      'other CPU',
    ],
    rows,
  );
}

/** The target's CPU time (all its processes) per answered command over the measured window. */
function cpuPerCommand(r: RoutingResult): number | undefined {
  if (r.targetCpuPercent === undefined || r.commandsPerS === undefined || r.commandsPerS === 0)
    return undefined;
  return (r.targetCpuPercent / 100 / r.commandsPerS) * 1e6;
}

function micros(value: number | undefined): string {
  return value === undefined ? 'n/a' : value.toFixed(1);
}

function notes(r: RoutingResult, connections: number): string {
  const reasons = Object.entries(r.errorReasons ?? {}).map(([reason, n]) => `${n} ${reason}`);
  return [
    r.booted === connections ? '' : `booted ${r.booted}/${connections}`,
    reasons.length === 0 ? '' : `errors: ${reasons.join(', ')}`,
    r.unknownReplies === 0 ? '' : `${r.unknownReplies} unknown replies`,
    (r.skipped ?? 0) === 0 ? '' : `${r.skipped} paced commands skipped (every CP busy)`,
    r.publishErrors === 0 ? '' : `${r.publishErrors} publish errors`,
    r.closedAfterOpen === 0 ? '' : `${r.closedAfterOpen} closed`,
    r.unexpectedFrames === 0 ? '' : `${r.unexpectedFrames} unexpected frames`,
  ]
    .filter((n) => n !== '')
    .join('; ');
}

/** Every run with its own numbers and anything odd about it. */
export function routingRunsTable(results: readonly RoutingResult[], connections: number): string {
  const rows = results.map((r) => {
    const head = [String(r.round), r.target];
    if (r.error !== undefined) {
      return [...head, `not measured: ${r.error.split('\n')[0]}`, ...new Array<string>(13).fill('')];
    }
    return [
      ...head,
      formatInt(r.commandsPerS ?? 0),
      formatMs(r.p50Micros),
      formatMs(r.p99Micros),
      formatMs(r.maxMicros),
      outcomes(r.sent ?? 0, r.answered ?? 0, r.errorReplied ?? 0, r.lost ?? 0),
      fraction(r.forwardedFraction),
      formatMs(r.meanRouteRoundTripMicros),
      percent(r.targetCpuPercent),
      micros(cpuPerCommand(r)),
      percent(r.redisCpuPercent),
      percent(r.brokerCpuPercent),
      percent(r.loadCpuPercent),
      percent(r.otherCpuPercent),
      notes(r, connections),
    ];
  });
  return markdownTable(
    [
      'round',
      'target',
      'commands/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'sent / answered / error-replied / lost',
      'forwarded',
      'route bus round trip ms (mean)',
      'target CPU',
      'target CPU µs per command',
      'Redis CPU',
      'broker CPU',
      'load + backend CPU',
      'other CPU',
      'notes',
    ],
    rows,
  );
}
