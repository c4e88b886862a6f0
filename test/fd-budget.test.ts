import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FdBudget, fdMarks, parseSoftNofile, procFdProbe, type FdProbe } from '../src/edge/fd-budget.js';

/** The descriptor budget's rules without a process at its limit (fd-limit.test.ts has that). */

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

function capture(): { log: pino.Logger; messages: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return {
    log: pino({ level: 'info' }, stream),
    messages: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
  };
}

/** A probe whose count is `others` plus whatever the budget was told about. */
function fakeProbe(limit: number | undefined, others: { value: number }, edge: () => number): FdProbe {
  return { cheap: true, limit: () => limit, count: () => others.value + edge() };
}

describe('descriptor budget (unit)', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    assert.equal(parseSoftNofile(LIMITS), 1024);
    assert.equal(parseSoftNofile(LIMITS.replace('1024   ', 'unlimited')), undefined);
    assert.equal(parseSoftNofile('nothing here'), undefined);
  });
  it('derives the marks from limit and reserve', () => {
    assert.deepEqual(fdMarks(256, 128), { limit: 256, cap: 128, highWater: 192, lowWater: 96 });
    assert.deepEqual(fdMarks(1_048_576, 128), {
      limit: 1_048_576,
      cap: 1_048_448,
      highWater: 1_048_512,
      lowWater: 1_048_416,
    });
  });
  it('counts this process on Linux the way /proc lists it', () => {
    const probe = procFdProbe();
    assert.ok((probe.limit() ?? 0) > 0);
    // The listing holds one descriptor of its own while it runs.
    assert.equal(probe.count(), readdirSync('/proc/self/fd').length - 1);
  });

  it('refuses at the cap, pauses at high-water, recovers under low-water, logging each change once', () => {
    const { log, messages } = capture();
    const calls: string[] = [];
    let edge = 0;
    const others = { value: 20 };
    const budget = new FdBudget(
      128,
      { pause: () => calls.push('pause'), resume: () => (calls.push('resume'), true) },
      log,
      fakeProbe(256, others, () => edge),
    );
    budget.start();
    const open = (n: number) => {
      for (let i = 0; i < n; i++) {
        edge++;
        budget.socketOpened();
      }
    };
    const close = (n: number) => {
      for (let i = 0; i < n; i++) {
        edge--;
        budget.socketClosed();
      }
    };
    open(107); // 127 open
    assert.equal(budget.refusing, false);
    open(1); // 128: the cap
    assert.equal(budget.refusing, true);
    open(63); // 191
    assert.deepEqual(calls, []);
    open(1); // 192: high-water
    assert.deepEqual(calls, ['pause']);
    open(5);
    close(5 + 64 + 1); // 127: under the cap, not yet under low-water
    assert.equal(budget.refusing, true);
    close(31); // 96 = low-water: still refusing
    assert.equal(budget.refusing, true);
    close(1); // 95
    assert.equal(budget.refusing, false);
    assert.deepEqual(calls, ['pause', 'resume']);
    assert.deepEqual(
      messages().filter((m) => m.startsWith('descriptor')),
      [
        'descriptor budget',
        'descriptor cap reached: upgrades refused with 503',
        'descriptor high-water mark: listener closed',
        'descriptors under the cap again: upgrades accepted',
      ],
    );
    budget.stop();
  });

  it('notices descriptors held elsewhere in the process at its next count', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const { log } = capture();
    const others = { value: 20 };
    const budget = new FdBudget(
      128,
      { pause: () => undefined, resume: () => true },
      log,
      fakeProbe(256, others, () => 0),
    );
    budget.start();
    others.value = 150; // say, a burst of Redis and HTTP connections
    assert.equal(budget.refusing, false, 'not counted yet');
    t.mock.timers.tick(1000);
    assert.equal(budget.refusing, true);
    others.value = 20;
    t.mock.timers.tick(1000);
    assert.equal(budget.refusing, false);
    budget.stop();
  });

  it('stays paused while the listener cannot reopen, and retries at each count', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const { log } = capture();
    const others = { value: 0 };
    let reopen = false;
    const budget = new FdBudget(
      128,
      { pause: () => undefined, resume: () => reopen },
      log,
      fakeProbe(256, others, () => 0),
    );
    budget.start();
    others.value = 200;
    t.mock.timers.tick(1000);
    assert.equal(budget.refusing, true);
    others.value = 10;
    t.mock.timers.tick(1000);
    assert.equal(budget.refusing, true, 'listener still closed');
    reopen = true;
    t.mock.timers.tick(1000);
    assert.equal(budget.refusing, false);
    budget.stop();
  });

  it('is off when the limit is unknown', () => {
    const { log, messages } = capture();
    const budget = new FdBudget(128, { pause: () => assert.fail(), resume: () => true }, log, {
      cheap: true,
      limit: () => undefined,
      count: () => 1_000_000,
    });
    budget.start();
    budget.socketOpened();
    assert.equal(budget.refusing, false);
    assert.match(messages()[0] ?? '', /no descriptor budget/);
  });
});
