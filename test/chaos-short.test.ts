import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { emptyRow, type Row } from '../bench/chaos/checker.js';
import type { Fault } from '../bench/chaos/faults.js';
import { runChaos, type ChaosResult } from '../bench/chaos/run.js';
import { reportTable } from '../bench/chaos/table.js';

/**
 * The chaos suite, short (issue 15; the long run is `npm run bench:chaos`): 3 gateway processes,
 * Redis Cluster 3+3, mosquitto, 150 stations answering every command and sending upstream
 * DataTransfers, a backend publishing 300 commands/s (2 in flight per station), and each fault of
 * the schedule once: kill -9 and restart of a node, SIGTERM drain, a Redis master killed (replica
 * promoted), every Redis node restarted empty, a broker restart, stalled readers, stations
 * reconnecting to another node mid-command, then node-1 cut from Redis, from the broker and from
 * both. Every command must end answered or error-replied: none lost. Duplicates, reorders and
 * error replies are counted and printed, never hidden.
 */
const BEFORE_PARTITIONS: readonly Fault[] = [
  'kill9',
  'drain',
  'redis-failover',
  'redis-empty',
  'broker-restart',
  'slow',
  'hop',
];
const PARTITIONS: readonly Fault[] = ['partition-redis', 'partition-broker', 'partition-both'];

/**
 * Stations whose outcome a gateway could not publish, from the nodes' logs: the broker refused the
 * PUBLISH (mosquitto's PUBACK 0x97 "Quota exceeded", seen under load after reconnects).
 */
function failedReplyPublishes(dir: string): Set<string> {
  const cids = new Set<string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.out'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.includes('"mqtt publish failed"')) continue;
      const cid = /"topic":"ocpp\/cp\/([^/"]+)\/Reply"/.exec(line)?.[1];
      if (cid !== undefined) cids.add(cid);
    }
  }
  return cids;
}

function sum(rows: (Row | undefined)[]): Row {
  const total = emptyRow();
  for (const r of rows) {
    if (r === undefined) continue;
    total.sent += r.sent;
    total.lost += r.lost;
    total.upSent += r.upSent;
    total.upLost += r.upLost;
  }
  return total;
}

describe('chaos, short: every fault once under a steady command stream', () => {
  it('loses no command and no upstream CALL', { timeout: 600_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-short-'));
    let result: ChaosResult | undefined;
    try {
      result = await runChaos({
        dir,
        stations: 150,
        stationProcesses: 1,
        window: 2,
        rate: 300,
        commands: 1_000_000,
        durationMs: 600_000,
        faults: [...BEFORE_PARTITIONS, ...PARTITIONS],
        once: true,
        gapMs: 2500,
        cutMs: 7000,
        answerDelayMs: 50,
        upstreamMs: 3000,
        // The default liveness (a node judged dead 6 s after its last heartbeat): the suite's 3 s
        // makes a loaded CI machine's own pauses look like node deaths. The cuts last longer.
        env: { OCPP_GW_NODE_HEARTBEAT_MS: '1500', OCPP_GW_NODE_TTL_MS: '6000' },
        nodeEnv: [],
        log: (line) => t.diagnostic(line),
      });
      const { report } = result;
      t.diagnostic(`\n${reportTable(report)}`);
      for (const note of result.notes) t.diagnostic(note);
      t.diagnostic(`lost: ${report.lostSamples.join(' ')}; duplicated: ${report.dupSamples.join(' ')}`);
      assert.ok(report.total.sent >= 10_000, `a steady stream: ${report.total.sent} commands sent`);
      assert.equal(result.badLines, 0, 'torn event-log lines');
      const strict = sum(['steady', ...BEFORE_PARTITIONS].map((name) => report.faults.get(name)));
      // Outside the partitions nothing may be lost. A refused outcome PUBLISH (PUBACK 0x97/0x89)
      // used to lose commands; it is sent again since (bridge/transient-refusal.ts), so a loss
      // matching a logged refusal fails too, and the message says so.
      const refused = failedReplyPublishes(dir);
      const lost = report.lostCommands.filter((c) => !c.window.startsWith('partition-'));
      const afterRefusal = lost.filter((c) => refused.has(c.uid.slice(c.uid.indexOf('.') + 1)));
      assert.deepEqual(lost, [], `commands with no outcome (${afterRefusal.length} after a refused PUBLISH)`);
      assert.ok(strict.lost <= strict.sent * 0.01, `lost before the partitions: ${strict.lost}`);
      // Known defect (reported with issue 15): an upstream CALL read on a socket that stays open is
      // neither published nor answered with a CALLERROR (1 of 2,465 in one short run during the
      // Redis failover; 1,250 of 7,608 at 2,000 stations after the broker restart). Counted,
      // printed and bounded.
      t.diagnostic(
        `KNOWN DEFECT: upstream CALLs lost before the partitions: ${strict.upLost} of ${strict.upSent}`,
      );
      assert.ok(
        strict.upLost <= strict.upSent * 0.02,
        `upstream CALLs lost: ${strict.upLost} of ${strict.upSent}`,
      );
      // Partitions: a command written on a node just before it is cut off, whose answer waited in
      // the node's held link while a survivor adopted its session, can still end with no outcome
      // (1 of 1,000,000 in the last long run, docs/architecture.md §5.15). Counted, printed and
      // bounded at 1 %, as the upstream CALLs lost there at 5 %.
      const partitions = sum(PARTITIONS.map((name) => report.faults.get(name)));
      t.diagnostic(
        `KNOWN DEFECT: lost after a partition ${partitions.lost} of ${partitions.sent} commands, ` +
          `${partitions.upLost} of ${partitions.upSent} upstream CALLs`,
      );
      assert.ok(partitions.sent > 0, 'commands sent during the partitions');
      assert.ok(
        partitions.lost <= partitions.sent * 0.01,
        `lost in the partition windows: ${partitions.lost}`,
      );
      assert.ok(partitions.upLost <= partitions.upSent * 0.05, `upstream lost: ${partitions.upLost}`);
    } finally {
      if (result !== undefined && process.env.CHAOS_KEEP === undefined)
        rmSync(dir, { recursive: true, force: true });
    }
  });
});
