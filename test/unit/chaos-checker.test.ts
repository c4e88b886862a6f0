import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChaosChecker, STEADY } from '../../bench/chaos/checker.js';
import { formatEvent, parseEvent, type ChaosEvent } from '../../bench/chaos/events.js';
import { checkRunDir } from '../../bench/chaos/read-logs.js';
import { reportTable } from '../../bench/chaos/table.js';

/** Issue 15: the chaos checker's counts, from hand-made event logs. */
const S = (t: number, cid: string, seq: number): ChaosEvent => ({
  k: 'S',
  t,
  cid,
  uid: `${seq}.${cid}`,
  seq,
});
const C = (t: number, cid: string, seq: number): ChaosEvent => ({
  k: 'C',
  t,
  cid,
  uid: `${seq}.${cid}`,
  seq,
});
const R = (t: number, uid: string, kind = 'ok'): ChaosEvent => ({ k: 'R', t, uid, kind });

function check(events: ChaosEvent[]): ReturnType<ChaosChecker['report']> {
  const checker = new ChaosChecker();
  for (const e of events) checker.add(e);
  return checker.report();
}

describe('chaos checker', () => {
  it('counts answered, error replies by reason, lost, and an error reply for a written command', () => {
    const r = check([
      S(1, 'a', 0),
      S(2, 'a', 1),
      S(3, 'b', 0),
      S(4, 'b', 1),
      C(5, 'a', 0),
      R(6, '0.a'),
      C(7, 'a', 1),
      R(8, '1.a', 'gw:disconnected'),
      R(9, '0.b', 'gw:offline'),
    ]);
    assert.equal(r.total.sent, 4);
    assert.equal(r.total.answered, 1);
    assert.deepEqual(r.total.errors, { 'gw:disconnected': 1, 'gw:offline': 1 });
    assert.deepEqual(r.total.errorThoughWritten, { 'gw:disconnected': 1 });
    assert.equal(r.total.lost, 1, '1.b: neither an answer nor an error reply');
    assert.deepEqual(r.lostSamples, ['1.b']);
    assert.deepEqual(r.lostCommands, [{ uid: '1.b', window: STEADY }]);
    assert.equal(r.total.dupWritten + r.total.dupOutcomes + r.total.reordered, 0);
  });

  it('counts a command written twice and one with two outcomes, the first outcome deciding', () => {
    const r = check([
      S(1, 'a', 0),
      S(1, 'a', 1),
      C(2, 'a', 0),
      C(3, 'a', 0),
      R(4, '0.a'),
      C(5, 'a', 1),
      R(6, '1.a'),
      R(7, '1.a', 'gw:node_lost'),
    ]);
    assert.equal(r.total.answered, 2);
    assert.deepEqual(r.total.errors, {});
    assert.equal(r.total.dupWritten, 1);
    assert.equal(r.total.dupOutcomes, 1);
    assert.equal(r.total.reordered, 0, 'a repeated seq is a duplicate, not a reorder');
    assert.deepEqual(r.dupSamples.sort(), ['0.a', '1.a']);
  });

  it('counts a reorder per station: a lower seq read after a higher one', () => {
    const r = check([
      S(1, 'a', 0),
      S(1, 'a', 1),
      S(1, 'a', 2),
      S(1, 'b', 0),
      S(1, 'b', 1),
      C(2, 'a', 1),
      C(2, 'b', 0),
      C(3, 'a', 0),
      C(3, 'b', 1),
      C(4, 'a', 2),
      ...['0.a', '1.a', '2.a', '0.b', '1.b'].map((uid) => R(5, uid)),
    ]);
    assert.equal(r.total.reordered, 1, 'only 0.a, read after 1.a');
    assert.equal(r.total.answered, 5);
  });

  it('puts each command in the fault window it was sent in, and sums them in the total', () => {
    const r = check([
      { k: 'F', t: 10, name: 'kill9' },
      { k: 'F', t: 20, name: 'broker-restart' },
      { k: 'F', t: 30, name: 'kill9' },
      S(5, 'a', 0),
      S(15, 'a', 1),
      S(25, 'a', 2),
      S(35, 'a', 3),
      R(40, '0.a'),
      R(40, '1.a', 'gw:node_lost'),
      R(40, '2.a'),
    ]);
    assert.deepEqual([...r.faults.keys()], [STEADY, 'kill9', 'broker-restart']);
    assert.equal(r.faults.get(STEADY)?.sent, 1);
    assert.equal(r.faults.get('kill9')?.sent, 2);
    assert.equal(r.faults.get('kill9')?.lost, 1, '3.a, sent in the second kill9 window');
    assert.deepEqual(r.faults.get('kill9')?.errors, { 'gw:node_lost': 1 });
    assert.equal(r.faults.get('broker-restart')?.answered, 1);
    assert.equal(r.total.sent, 4);
    assert.equal(r.total.lost, 1);
    assert.deepEqual(r.lostCommands, [{ uid: '3.a', window: 'kill9' }]);
  });

  it('counts upstream CALLs: delivered, duplicated, abandoned on a closed socket, lost', () => {
    const u = (t: number, uid: string): ChaosEvent => ({ k: 'u', t, cid: 'a', uid });
    const U = (t: number, uid: string): ChaosEvent => ({ k: 'U', t, cid: 'a', uid });
    const r = check([
      u(1, 'u0'),
      U(2, 'u0'),
      { k: 'a', t: 3, uid: 'u0' },
      u(4, 'u1'),
      U(5, 'u1'),
      U(6, 'u1'),
      { k: 'a', t: 7, uid: 'u1' },
      u(8, 'u2'),
      { k: 'x', t: 9, uid: 'u2' },
      u(10, 'u3'),
      { k: 'w', t: 11, uid: 'u3' },
      u(12, 'u4'),
      { k: 'e', t: 13, uid: 'u4' },
      u(14, 'u5'),
      { k: 'x', t: 15, uid: 'u5' },
      U(16, 'u5'),
    ]);
    const t = r.total;
    assert.deepEqual(
      [t.upSent, t.upDelivered, t.upDuplicated, t.upAnswered, t.upErrored, t.upAbandoned, t.upLost],
      [6, 3, 1, 2, 1, 1, 1],
    );
    assert.deepEqual(r.lostSamples, ['u3']);
  });

  it('reads a run directory back, skipping torn lines, and prints a table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-check-'));
    try {
      const backend = [S(1, 'a', 0), S(2, 'a', 1), R(3, '0.a'), R(4, '1.a', 'gw:timeout')];
      writeFileSync(join(dir, 'backend.log'), backend.map(formatEvent).join('') + 'S\t5\ta');
      writeFileSync(join(dir, 'stations-0.log'), [C(2, 'a', 0)].map(formatEvent).join(''));
      writeFileSync(join(dir, 'faults.log'), formatEvent({ k: 'F', t: 2, name: 'slow' }));
      const { report, badLines } = await checkRunDir(dir);
      assert.equal(badLines, 1);
      assert.equal(report.total.sent, 2);
      assert.deepEqual(report.faults.get('slow')?.errors, { 'gw:timeout': 1 });
      const table = reportTable(report);
      assert.match(table, /\| slow \| 1 \| 0 \| gw:timeout 1 \| 0 \|/);
      assert.match(table, /\| \*\*total\*\* \| 2 \| 1 \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses what it formats', () => {
    const events: ChaosEvent[] = [
      S(1, 'cs-1', 7),
      C(2, 'cs-1', 7),
      R(3, '7.cs-1', 'gw:node_lost'),
      { k: 'U', t: 4, cid: 'cs-1', uid: 'u1' },
      { k: 'u', t: 4, cid: 'cs-1', uid: 'u1' },
      { k: 'x', t: 5, uid: 'u1' },
      { k: 'F', t: 6, name: 'partition' },
    ];
    for (const e of events) assert.deepEqual(parseEvent(formatEvent(e).trimEnd()), e);
  });
});
