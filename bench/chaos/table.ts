import type { ChaosReport, Row } from './checker.js';

const n = (x: number): string => x.toLocaleString('en-US');
const reasons = (m: Record<string, number>): string =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ') || '0';

/** The run's counts as two Markdown tables: downstream commands, upstream CALLs. */
export function reportTable(report: ChaosReport): string {
  const rows: [string, Row][] = [...report.faults].filter(([, r]) => r.sent + r.upSent > 0);
  rows.push(['**total**', report.total]);
  const down = [
    '| window | sent | answered | error replies (reason) | lost | duplicated (written twice / two outcomes) | reordered | error reply though written |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |',
    ...rows.map(
      ([name, r]) =>
        `| ${name} | ${n(r.sent)} | ${n(r.answered)} | ${reasons(r.errors)} | ${n(r.lost)} | ` +
        `${n(r.dupWritten)} / ${n(r.dupOutcomes)} | ${n(r.reordered)} | ${reasons(r.errorThoughWritten)} |`,
    ),
  ];
  const up = [
    '| window | upstream CALLs sent | delivered to the backend | duplicated | answered | CALLERROR | abandoned (socket closed) | lost |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      ([name, r]) =>
        `| ${name} | ${n(r.upSent)} | ${n(r.upDelivered)} | ${n(r.upDuplicated)} | ${n(r.upAnswered)} | ` +
        `${n(r.upErrored)} | ${n(r.upAbandoned)} | ${n(r.upLost)} |`,
    ),
  ];
  return [...down, '', ...up].join('\n');
}
