import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { KeepaliveSweeper } from '../../src/edge/session/keepalive.js';
import type { CloseReason, Session } from '../../src/edge/session/session.js';
import { SessionTable } from '../../src/edge/session/session-table.js';

/** The three fields the sweeper reads, and a record of how it was closed. */
class FakeSession {
  closed: { code: number; text: string; reason: CloseReason } | undefined;
  constructor(
    readonly cid: string,
    public lastReceivedAt: number,
    public keepaliveS: number,
  ) {}
  close(code: number, text: string, reason: CloseReason): void {
    this.closed ??= { code, text, reason };
  }
}

/** Read through a call, so an earlier `assert.equal(x.closed, undefined)` does not narrow it. */
const reasonOf = (s: FakeSession): CloseReason | undefined => s.closed?.reason;

function table(...sessions: FakeSession[]): SessionTable {
  const t = new SessionTable();
  // No ownership hooks set: add() only records the session.
  for (const s of sessions) t.add(s as unknown as Session);
  return t;
}

const T0 = 1_700_000_000_000;

describe('KeepaliveSweeper.sweep(now): the EMQX heartbeat rule with a fake clock', () => {
  it('closes a session silent for interval x backoff with 1000 "heartbeat timeout", not a ms earlier', () => {
    const cp = new FakeSession('a', T0, 60);
    const sweeper = new KeepaliveSweeper(table(cp), 2);
    sweeper.sweep(T0 + 60 * 2 * 1000 - 1);
    assert.equal(cp.closed, undefined, 'one ms before interval x backoff');
    sweeper.sweep(T0 + 60 * 2 * 1000);
    assert.deepEqual(cp.closed, { code: 1000, text: 'heartbeat timeout', reason: 'keepalive_timeout' });
  });

  it('multiplies by the configured backoff', () => {
    const cp = new FakeSession('a', T0, 10);
    const sweeper = new KeepaliveSweeper(table(cp), 3);
    sweeper.sweep(T0 + 29_999);
    assert.equal(cp.closed, undefined, '10 s x 3 not yet over');
    sweeper.sweep(T0 + 30_000);
    assert.equal(reasonOf(cp), 'keepalive_timeout');
  });

  it('counts from the last OCPP text: a session that spoke recently stays', () => {
    const chatty = new FakeSession('chatty', T0, 1);
    const silent = new FakeSession('silent', T0, 1);
    const sweeper = new KeepaliveSweeper(table(chatty, silent), 2);
    for (let t = T0 + 600; t <= T0 + 3600; t += 600) {
      chatty.lastReceivedAt = t; // what Session.onText does for every text frame
      sweeper.sweep(t + 1);
    }
    assert.equal(chatty.closed, undefined);
    assert.equal(
      silent.closed?.reason,
      'keepalive_timeout',
      'the silent one in the same table did not survive',
    );
  });

  it('interval 0 turns the check off', () => {
    const cp = new FakeSession('a', T0, 0);
    const sweeper = new KeepaliveSweeper(table(cp), 2);
    sweeper.sweep(T0 + 365 * 24 * 3600 * 1000);
    assert.equal(cp.closed, undefined);
  });

  it('reads each session’s own interval at every sweep (an Accepted BootNotification sets session.keepaliveS)', () => {
    const cp = new FakeSession('a', T0, 1);
    const sweeper = new KeepaliveSweeper(table(cp), 2);
    cp.keepaliveS = 4; // the interval of an Accepted BootNotification reply
    sweeper.sweep(T0 + 3000);
    assert.equal(cp.closed, undefined, 'the 4 s interval (x2) replaced the 1 s default');
    sweeper.sweep(T0 + 7999);
    assert.equal(cp.closed, undefined);
    sweeper.sweep(T0 + 8000);
    assert.equal(reasonOf(cp), 'keepalive_timeout');
  });

  it('an interval set to 0 later stops a session from ever being closed', () => {
    const cp = new FakeSession('a', T0, 1);
    const sweeper = new KeepaliveSweeper(table(cp), 2);
    cp.keepaliveS = 0;
    sweeper.sweep(T0 + 60_000);
    assert.equal(cp.closed, undefined);
  });
});

describe('KeepaliveSweeper.start/stop: one interval timer, none left behind', () => {
  afterEach(() => mock.timers.reset());

  it('sweeps every tick with Date.now() and clears its timer on stop', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: T0 });
    const cp = new FakeSession('a', T0, 1);
    const sweeper = new KeepaliveSweeper(table(cp), 2, 500);
    sweeper.start();
    mock.timers.tick(1500);
    assert.equal(cp.closed, undefined, '1.5 s of silence is under 1 s x 2');
    mock.timers.tick(500);
    assert.equal(reasonOf(cp), 'keepalive_timeout', 'the tick at 2 s closed it');

    const late = new FakeSession('b', T0, 1);
    const stopped = new KeepaliveSweeper(table(late), 2, 500);
    stopped.start();
    stopped.stop();
    mock.timers.tick(10_000);
    assert.equal(late.closed, undefined, 'no sweep after stop()');
    sweeper.stop();
  });
});
