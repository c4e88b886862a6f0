import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { KeepaliveSweeper } from '../src/edge/session/keepalive.js';
import type { Session } from '../src/edge/session/session.js';
import { SessionTable } from '../src/edge/session/session-table.js';
import { ACK, BOOT, setup, type Fixture } from './harness/fixture.js';
import { sleep, withTimeout } from './harness/time.js';

type Presence = {
  clientid: string;
  reason?: string;
  keepalive?: number;
  disconnected_at?: number;
  node?: string;
  proto_ver?: string;
  ipaddress?: string;
};

describe('duplicate charge-point id: newest wins', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto');
  });
  after(() => fx.teardown());

  it('closes the old socket with 1000 "replaced" and delivers to the new one only', async () => {
    const first = await fx.connect('dup');
    const second = await fx.connect('dup');
    assert.deepEqual(await first.waitClose(2000), { code: 1000, reason: 'replaced' });
    await fx.backend.publish('ocpp/cs/dup', ACK('d1'));
    assert.deepEqual(((await second.next()) as unknown[])[1], 'd1');
    assert.equal(first.inbox.length, 0);
    assert.equal(second.closed, undefined);
    assert.equal(fx.gateway.sessions.size, 1);
    const gone = await fx.backend.waitFor('ocpp/events/dup/disconnected');
    assert.equal((gone.json as Presence).reason, 'replaced');
    // Two connected events, one disconnected: the survivor is still online.
    assert.equal(fx.backend.on('ocpp/events/dup/connected').length, 2);
    assert.equal(fx.backend.on('ocpp/events/dup/disconnected').length, 1);
  });

  it('hands the CALLs still waiting to the new socket; the written one is answered disconnected', async () => {
    type Reply = { UniqueId: string; MessageTypeId: number; ErrorDetails?: { reason?: string } };
    const reset = (id: string): Record<string, unknown> => ({
      MessageTypeId: 2,
      UniqueId: id,
      Action: 'Reset',
      Payload: { type: 'Soft' },
    });
    const first = await fx.connect('dupq');
    for (const id of ['q1', 'q2', 'q3']) await fx.backend.publish('ocpp/cs/dupq', reset(id));
    assert.equal(((await first.next()) as unknown[])[1], 'q1', 'q1 written, q2 and q3 wait behind it');
    const second = await fx.connect('dupq');
    await first.waitClose(2000);
    const q1 = await fx.backend.waitFor('ocpp/cp/dupq/Reply', (j: Reply) => j.UniqueId === 'q1');
    assert.equal((q1.json as Reply).ErrorDetails?.reason, 'disconnected');
    for (const id of ['q2', 'q3']) {
      const call = (await second.next()) as unknown[];
      assert.equal(call[1], id);
      second.send([3, id, { status: 'Accepted' }]);
      const reply = await fx.backend.waitFor('ocpp/cp/dupq/Reply', (j: Reply) => j.UniqueId === id);
      assert.equal((reply.json as Reply).MessageTypeId, 3, `${id} answered by the new socket`);
    }
    assert.equal(first.inbox.length, 0, 'nothing after q1 reached the old socket');
  });

  it('the replaced socket closing late never evicts its successor', async () => {
    const a = await fx.connect('dup2');
    const b = await fx.connect('dup2');
    await a.waitClose();
    await sleep(100);
    assert.equal(fx.gateway.sessions.lookup('dup2') !== undefined, true);
    await fx.backend.publish('ocpp/cs/dup2', ACK('z'));
    await b.next();
  });
});

describe('presence events', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto');
  });
  after(() => fx.teardown());

  it('publishes connected and disconnected with EMQX fields plus the node', async () => {
    const cp = await fx.connect('p1');
    const on = await fx.backend.waitFor('ocpp/events/p1/connected');
    const body = on.json as Presence & Record<string, unknown>;
    assert.equal(body.clientid, 'p1');
    assert.equal(body.proto_name, 'OCPP');
    assert.equal(body.proto_ver, '1.6');
    assert.equal(body.protocol, 'ocpp');
    assert.equal(body.keepalive, 60);
    assert.equal(body.node, 'test-node');
    assert.equal(body.ipaddress, '127.0.0.1');
    assert.equal(typeof body.connected_at, 'number');
    assert.equal(on.userProperties?.origin, 'gateway');
    await cp.close();
    const off = await fx.backend.waitFor('ocpp/events/p1/disconnected');
    assert.equal((off.json as Presence).reason, 'remote');
    assert.equal(typeof (off.json as Presence).disconnected_at, 'number');
  });
});

/** A table holding only `session`, so a sweep at a made-up time touches no other CP of the fixture. */
function only(session: Session): SessionTable {
  const table = new SessionTable();
  table.add(session);
  return table;
}

// The rule itself (interval x backoff, interval 0, the interval a session holds) is driven with a
// fake clock in test/unit/keepalive.test.ts. Here: one real-time case for the wiring (the node's
// sweep timer, close code, disconnect event), and the real Session's inputs to the rule, with
// KeepaliveSweeper.sweep(now) called at chosen times instead of waiting for them.
describe('keepalive (EMQX heartbeat rule)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_HEARTBEAT_INTERVAL_S: '1', OCPP_GW_HEARTBEAT_BACKOFF: '2' });
  });
  after(() => fx.teardown());

  const session = (cid: string): Session => {
    const found = fx.gateway.sessions.lookup(cid);
    assert.ok(found, `session ${cid}`);
    return found;
  };

  it('closes a silent CP after interval x backoff and publishes the disconnect', async () => {
    const cp = await fx.connect('k1');
    const started = Date.now();
    const closed = await cp.waitClose(5000);
    const elapsed = Date.now() - started;
    assert.equal(closed.code, 1000);
    assert.ok(elapsed >= 1900 && elapsed < 3500, `closed after ${elapsed} ms`);
    const off = await fx.backend.waitFor('ocpp/events/k1/disconnected');
    assert.equal((off.json as Presence).reason, 'keepalive_timeout');
  });

  it('keeps a CP that sends OCPP traffic: every text frame restarts its clock', async () => {
    const cp = await fx.connect('k2');
    const s = session('k2');
    let last = s.lastReceivedAt;
    for (let i = 0; i < 3; i++) {
      await sleep(20);
      cp.send([2, `hb${i}`, 'Heartbeat', {}]);
      await fx.backend.waitFor('ocpp/cp/k2', (m: { UniqueId?: string }) => m.UniqueId === `hb${i}`);
      assert.ok(s.lastReceivedAt > last, `Heartbeat ${i} moved lastReceivedAt`);
      last = s.lastReceivedAt;
      // 1 ms short of 1 s x 2 after this frame, while 2 s after the previous one have passed.
      new KeepaliveSweeper(only(s), 2).sweep(last + 1999);
      assert.equal(s.state, 'open');
    }
    assert.equal(cp.closed, undefined);
  });

  it('does not count WebSocket pings as traffic', async () => {
    const cp = await fx.connect('k3');
    const s = session('k3');
    const before = s.lastReceivedAt;
    for (let i = 0; i < 3; i++) {
      await sleep(20);
      const pong = once(cp.ws, 'pong');
      cp.ws.ping();
      await withTimeout(pong, 2000, `pong ${i}`);
    }
    assert.equal(s.lastReceivedAt, before, 'three answered pings left lastReceivedAt alone');
    new KeepaliveSweeper(only(s), 2).sweep(before + 2000);
    assert.equal((await cp.waitClose(5000)).code, 1000);
  });

  it('adopts the interval of an Accepted BootNotification reply', async () => {
    const cp = await fx.connect('k4');
    cp.send(BOOT('b1'));
    await fx.backend.waitFor('ocpp/cp/k4');
    await fx.backend.publish('ocpp/cs/k4', ACK('b1', 4));
    await cp.next();
    const s = session('k4');
    assert.equal(s.keepaliveS, 4);
    assert.equal(s.state, 'booted');
    new KeepaliveSweeper(only(s), 2).sweep(s.lastReceivedAt + 3000);
    assert.equal(s.state, 'booted', 'the 4 s interval (x2) replaced the 1 s default');
    assert.equal(cp.closed, undefined);
    new KeepaliveSweeper(only(s), 2).sweep(s.lastReceivedAt + 8000);
    assert.equal((await cp.waitClose(5000)).code, 1000);
  });

  it('leaves the interval alone for Pending or Rejected', async () => {
    const cp = await fx.connect('k5');
    cp.send(BOOT('b2'));
    await fx.backend.waitFor('ocpp/cp/k5');
    await fx.backend.publish('ocpp/cs/k5', ACK('b2', 300, 'Pending'));
    await cp.next();
    assert.equal(fx.gateway.sessions.lookup('k5')?.keepaliveS, 1);
    assert.equal(fx.gateway.sessions.lookup('k5')?.state, 'open');
  });

  it('interval 0 turns the check off', async () => {
    const cp = await fx.connect('k6');
    cp.send(BOOT('b3'));
    await fx.backend.waitFor('ocpp/cp/k6');
    await fx.backend.publish('ocpp/cs/k6', ACK('b3', 0));
    await cp.next();
    const s = session('k6');
    assert.equal(s.keepaliveS, 0);
    new KeepaliveSweeper(only(s), 2).sweep(s.lastReceivedAt + 24 * 3600 * 1000);
    assert.equal(s.state, 'booted');
    assert.equal(cp.closed, undefined);
  });
});
