import { formatInt, markdownTable } from './report.js';
import type { TlsTargetKind } from './tls-targets.js';

/** One reconnect storm of the TLS capacity bench. */
export interface StormResult {
  /** The stations offered the session ticket of their last connection. */
  readonly resume: boolean;
  readonly dropped: number;
  readonly rebooted: number;
  readonly retries: number;
  readonly connectErrors: number;
  readonly bootPending: number;
  /** TLS handshakes during the storm, done in full and resumed (retried attempts included). */
  readonly tlsFull: number;
  readonly tlsResumed: number;
  /** From the drop to the last station booted again (the slowest generator). */
  readonly seconds: number;
  readonly targetCpuS: number;
  readonly cpuPerReconnectUs: number | undefined;
  readonly firstError: string | undefined;
  /** The gateway's `ocpp_gateway_upgrades_total` series that moved during the storm. */
  readonly upgrades: Readonly<Record<string, number>> | undefined;
}

/** One target of bench/tls-capacity.ts. */
export interface TlsCapacityResult {
  readonly kind: TlsTargetKind;
  readonly error?: string;
  readonly requested?: number;
  readonly booted?: number;
  readonly connectErrors?: number;
  readonly bootPending?: number;
  readonly closedAfterOpen?: number;
  readonly firstError?: string | undefined;
  /** Full TLS handshakes of the connect phase (0 over plain ws). */
  readonly tlsFull?: number;
  readonly connectS?: number;
  readonly connectCpuS?: number;
  readonly cpuPerConnectUs?: number | undefined;
  readonly baselineRss?: number;
  readonly heldRss?: number;
  readonly peakRss?: number;
  readonly bytesPerStation?: number | undefined;
  readonly storms?: readonly StormResult[];
}

const mib = (bytes: number | undefined): string =>
  bytes === undefined ? 'n/a' : (bytes / 2 ** 20).toFixed(1);
const kib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / 1024).toFixed(2));
const ms = (us: number | undefined): string => (us === undefined ? 'n/a' : (us / 1000).toFixed(2));

function connectRow(r: TlsCapacityResult): string[] {
  if (r.error !== undefined) return [r.kind, `not measured: ${r.error.split('\n')[0]}`, '', '', '', ''];
  const booted = r.booted ?? 0;
  const seconds = r.connectS ?? 0;
  return [
    r.kind,
    `${formatInt(booted)} / ${formatInt(r.requested ?? 0)} (errors ${formatInt(r.connectErrors ?? 0)}${r.firstError === undefined ? '' : ` "${r.firstError}"`}, pending ${formatInt(r.bootPending ?? 0)}, closed ${formatInt(r.closedAfterOpen ?? 0)})`,
    `${seconds.toFixed(1)} s (${formatInt(seconds > 0 ? booted / seconds : 0)}/s), ${formatInt(r.tlsFull ?? 0)} full TLS handshakes`,
    `${(r.connectCpuS ?? 0).toFixed(2)} s, ${ms(r.cpuPerConnectUs)} ms per station`,
    `${mib(r.baselineRss)} -> ${mib(r.heldRss)} MiB (peak ${mib(r.peakRss)})`,
    `**${kib(r.bytesPerStation)} KiB**`,
  ];
}

function stormRow(kind: TlsTargetKind, s: StormResult): string[] {
  return [
    kind,
    s.resume ? 'offered' : 'none (full handshakes)',
    `${formatInt(s.rebooted)} / ${formatInt(s.dropped)} (pending ${formatInt(s.bootPending)})`,
    `${formatInt(s.tlsFull)} / ${formatInt(s.tlsResumed)}`,
    `${formatInt(s.connectErrors)} / ${formatInt(s.retries)}${s.firstError === undefined ? '' : ` (first: "${s.firstError}")`}`,
    `${s.seconds.toFixed(1)} s`,
    `${s.targetCpuS.toFixed(2)} s`,
    `**${ms(s.cpuPerReconnectUs)} ms**`,
  ];
}

/** The connect + memory table and the storm table, Markdown. */
export function tlsCapacityTables(results: readonly TlsCapacityResult[]): string {
  const connect = markdownTable(
    [
      'target',
      'booted / requested',
      'connect + Basic auth + boot',
      'target CPU (utime+stime)',
      'RSS before -> held',
      'RSS per booted station',
    ],
    results.map(connectRow),
  );
  const storms = markdownTable(
    [
      'target',
      'TLS session',
      'booted again / dropped',
      'TLS handshakes full / resumed',
      'connect errors / retries',
      'all booted again after',
      'target CPU over the storm',
      'target CPU per reconnect',
    ],
    results.flatMap((r) => (r.storms ?? []).map((s) => stormRow(r.kind, s))),
  );
  return `${connect}\n\n${storms}`;
}
