import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { UpstreamPublisher, GatewayErrorReply } from '../../src/bridge/upstream-publisher.js';
import { OwnerDelivery } from '../../src/cluster/owner-delivery.js';
import { MARKS_UNAVAILABLE, type SentMarks } from '../../src/cluster/sent-marks.js';
import type { Session } from '../../src/edge/session/session.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import type { Ack, DownstreamMessage } from '../../src/ocpp/message.js';
import { lapsedGate } from '../harness/lapsed-gate.js';
import { V16 } from '../../src/ocpp/versions/v16.js';
import { metric } from '../harness/router-rig.js';

const WRITER = 'node-a|run1';

/**
 * Written-marks as OwnerDelivery sees them: `take` answers with whoever holds the mark (undefined:
 * nobody, this delivery may write it), resolved when the test says.
 */
function marks(holder: string | undefined) {
  const finished: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const fake = {
    writer: WRITER,
    take: () => gate.then(() => holder),
    finished: (_cid: string, uniqueId: string) => finished.push(uniqueId),
  } as unknown as SentMarks;
  return { fake, finished, release: () => release() };
}

/** A session that records what reached it and ends each CALL when told. */
function session() {
  const delivered: Array<{ message: DownstreamMessage; ack: Ack | undefined }> = [];
  const s = {
    cid: 'cp1',
    version: V16,
    deliver: (message: DownstreamMessage, ack?: Ack) => delivered.push({ message, ack }),
  } as unknown as Session;
  return { s, delivered };
}

function publisher() {
  const replies: GatewayErrorReply[] = [];
  const p = {
    gatewayError: (reply: GatewayErrorReply) => {
      replies.push(reply);
      reply.ack?.();
    },
  } as unknown as UpstreamPublisher;
  return { p, replies };
}

const call: DownstreamMessage = { type: 2, uniqueId: 'c1', action: 'Reset', payload: { type: 'Soft' } };
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * An owner whose liveness has lapsed (docs/architecture.md §5.13), with a real lapse gate: the first
 * written-mark take fails (Redis silent), every later one succeeds. `back()` ends the lapse.
 */
function lapsedOwner() {
  const { gate, back } = lapsedGate('owner');
  const takes: string[] = [];
  const abandoned: string[] = [];
  const fake = {
    writer: WRITER,
    take: (_cid: string, uniqueId: string) => {
      takes.push(uniqueId);
      return Promise.resolve(takes.length === 1 ? MARKS_UNAVAILABLE : undefined);
    },
    abandon: (_cid: string, uniqueId: string) => abandoned.push(uniqueId),
    finished: () => undefined,
    writingUnprotected: () => undefined,
  } as unknown as SentMarks;
  const { s, delivered } = session();
  const owner = new OwnerDelivery(publisher().p, fake, new ClusterMetrics(new Registry()), gate);
  return { gate, takes, abandoned, s, delivered, owner, back };
}

describe('OwnerDelivery (written-marks, docs/architecture.md §5.7)', () => {
  it('writes a fresh CALL once; a redelivery arriving meanwhile joins it and is acknowledged with it', async () => {
    const m = marks(undefined);
    const { s, delivered } = session();
    const { p } = publisher();
    const owner = new OwnerDelivery(p, m.fake, new ClusterMetrics(new Registry()));
    let acks = 0;
    owner.deliver(s, call, { ack: () => acks++, redelivered: false });
    owner.deliver(s, call, { ack: () => acks++, redelivered: true });
    m.release();
    await flush();
    assert.equal(delivered.length, 1, 'written to the charge point once');
    delivered[0]?.ack?.();
    assert.equal(acks, 2, 'one outcome acknowledges both MQTT messages');
    assert.deepEqual(m.finished, ['c1']);
  });

  it('does not write again a CALL this run already wrote (its outcome went out when it ended)', async () => {
    const m = marks(WRITER);
    const { s, delivered } = session();
    const { p, replies } = publisher();
    const owner = new OwnerDelivery(p, m.fake, new ClusterMetrics(new Registry()));
    let acks = 0;
    owner.deliver(s, call, { ack: () => acks++, redelivered: true });
    m.release();
    await flush();
    assert.equal(delivered.length, 0);
    assert.equal(replies.length, 0);
    assert.equal(acks, 1);
  });

  it('answers `node_lost` for a CALL another node wrote and died with, without writing it again', async () => {
    const m = marks('node-b|run7');
    const { s, delivered } = session();
    const { p, replies } = publisher();
    const owner = new OwnerDelivery(p, m.fake, new ClusterMetrics(new Registry()));
    let acks = 0;
    owner.deliver(s, call, { ack: () => acks++, redelivered: true });
    m.release();
    await flush();
    assert.equal(delivered.length, 0);
    assert.deepEqual(
      replies.map((r) => [r.reason, r.errorCode, r.uniqueId]),
      [['node_lost', 'GenericError', 'c1']],
    );
    assert.match(replies[0]?.description ?? '', /node node-b/);
    assert.equal(acks, 1);
  });

  it("an adopted session's copy decided after the node took its session back: no node_lost, released", async () => {
    const m = marks('node-b|run7');
    const { s, delivered } = session();
    const { p, replies } = publisher();
    const owner = new OwnerDelivery(p, m.fake, new ClusterMetrics(new Registry()));
    let acks = 0;
    let releases = 0;
    let live = true;
    const delivery = {
      ack: () => acks++,
      redelivered: true,
      release: () => (releases++, false),
      live: () => live,
    };
    owner.deliver(s, call, delivery);
    live = false; // the adopted link closed for good while the mark was read (docs §5.8)
    m.release();
    await flush();
    // The node the session went back to answers its own copy; a node_lost here was a second outcome.
    assert.deepEqual([delivered.length, replies.length, acks, releases], [0, 0, 0, 1]);
    // Its next copy is not joined to a withdrawn one: it is answered.
    owner.deliver(s, call, { ack: () => acks++, redelivered: true });
    await flush();
    assert.deepEqual([replies.length, acks], [1, 1]);
  });

  it('hands CALLRESULTs and single-node CALLs straight to the session', () => {
    const { s, delivered } = session();
    const { p } = publisher();
    const owner = new OwnerDelivery(p, undefined, undefined);
    const ack = () => undefined;
    owner.deliver(s, call, { ack, redelivered: true });
    assert.equal(delivered[0]?.ack, ack);
  });

  it("writes one charge point's CALLs in arrival order when Redis answers their mark takes out of order", async () => {
    // A master failover: the cluster client retries each take on its own timer (docs/architecture.md §5.14).
    const answers = new Map<string, () => void>();
    const fake = {
      writer: WRITER,
      take: (_cid: string, uniqueId: string) =>
        new Promise<undefined>((resolve) => answers.set(uniqueId, () => resolve(undefined))),
      finished: () => undefined,
    } as unknown as SentMarks;
    const { s, delivered } = session();
    const owner = new OwnerDelivery(publisher().p, fake, new ClusterMetrics(new Registry()));
    for (const uniqueId of ['c1', 'c2', 'c3'])
      owner.deliver(s, { ...call, uniqueId }, { ack: () => undefined, redelivered: false });
    answers.get('c3')?.();
    answers.get('c2')?.();
    await flush();
    assert.equal(delivered.length, 0, 'c2 and c3 wait for the take of c1');
    answers.get('c1')?.();
    await flush();
    assert.deepEqual(
      delivered.map((d) => d.message.uniqueId),
      ['c1', 'c2', 'c3'],
    );
  });

  it('a CALL parked for its mark keeps its place: the next one, whose take succeeds, waits behind it', async () => {
    // The owner's liveness has lapsed (docs/architecture.md §5.13): c1's take fails and c1 is parked;
    // c2's take, later, succeeds. Written before c1, c2 would overtake it (the chaos run's failover).
    const { takes, s, delivered, owner, back } = lapsedOwner();
    for (const uniqueId of ['c1', 'c2'])
      owner.deliver(s, { ...call, uniqueId }, { ack: () => undefined, redelivered: false });
    await flush();
    assert.equal(delivered.length, 0, 'c2 was written while c1 was parked');
    // Liveness back: c1 is taken again and written, then c2.
    back();
    await flush();
    await flush();
    assert.deepEqual(takes, ['c1', 'c2', 'c1']);
    assert.deepEqual(
      delivered.map((d) => d.message.uniqueId),
      ['c1', 'c2'],
    );
  });
  it('a parked CALL left to the broker hands its place to a copy that joined it: the next CALL stays behind', async () => {
    // The owner is lapsed: c1's take fails and c1 is parked. An adopter routes the broker's copy of
    // c1 here (it joins c1), then c2. The owner's MQTT link closes: c1 is left to the broker.
    const { gate, s, delivered, owner } = lapsedOwner();
    let released = 0;
    owner.deliver(s, call, { ack: () => undefined, redelivered: false, release: () => (released++, false) });
    await flush();
    owner.deliver(s, call, { ack: () => undefined, redelivered: true }); // the adopter's copy joins
    owner.deliver(s, { ...call, uniqueId: 'c2' }, { ack: () => undefined, redelivered: false });
    await flush();
    assert.equal(delivered.length, 0, 'c2 was written while c1 was parked');
    gate.dropAll();
    await flush();
    await flush();
    assert.equal(released, 1);
    // Delivered at the end of the line instead, the copy of c1 was written after c2.
    assert.deepEqual(
      delivered.map((d) => d.message.uniqueId),
      ['c1', 'c2'],
    );
  });
  it('a CALL of a link that closed while lapsed is left to the broker when its turn comes, its mark noted', async () => {
    // c1's take fails (parked), c2's succeeds: c2 waits behind c1. The link closes while the node
    // is lapsed: c1 is left to the broker; written now, c2 would overtake the copy of c1 that the
    // broker hands the adopter (docs §5.13).
    const { gate, abandoned, s, delivered, owner, back } = lapsedOwner();
    const released: string[] = [];
    for (const uniqueId of ['c1', 'c2'])
      owner.deliver(
        s,
        { ...call, uniqueId },
        {
          ack: () => undefined,
          redelivered: false,
          release: () => (released.push(uniqueId), false),
          linkEpoch: gate.epoch,
        },
      );
    await flush();
    gate.dropAll();
    // Liveness is back before c2's turn: c2 still came over the closed link, and is not written.
    back();
    await flush();
    await flush();
    assert.deepEqual([delivered.length, released, abandoned], [0, ['c1', 'c2'], ['c2']]);
    // What comes over the link now is written.
    owner.deliver(
      s,
      { ...call, uniqueId: 'c3' },
      { ack: () => undefined, redelivered: false, linkEpoch: gate.epoch },
    );
    await flush();
    assert.deepEqual(
      delivered.map((d) => d.message.uniqueId),
      ['c3'],
    );
  });

  describe('a CALL given back whose broker copy is already here (copy-turns.ts, docs §5.14)', () => {
    /**
     * The bu-1 shape (bench/RESULTS.md, run P): c1's mark take outlives its MQTT link, which closes
     * while the owner is lapsed; the broker's copy of c1 came on the new connection and was joined
     * to it (bridge/inbox.ts), then c2 came and waits behind c1 in the take line. Liveness is back.
     */
    function givenBack(copyComes: boolean, copyWaitMs = 2000) {
      const { gate, back } = lapsedGate('owner');
      const answers = new Map<string, () => void>();
      const fake = {
        writer: WRITER,
        take: (_cid: string, uniqueId: string, redelivered: boolean) =>
          redelivered || uniqueId !== 'c1'
            ? Promise.resolve(undefined)
            : new Promise<undefined>((resolve) => answers.set(uniqueId, () => resolve(undefined))),
        abandon: () => undefined,
        finished: () => undefined,
      } as unknown as SentMarks;
      const { s, delivered } = session();
      const registry = new Registry();
      const owner = new OwnerDelivery(publisher().p, fake, new ClusterMetrics(registry), gate, copyWaitMs);
      let releases = 0;
      const release = (): boolean => {
        releases += 1;
        // The inbox hands the joined copy out in a microtask, on the new connection.
        if (copyComes)
          queueMicrotask(() =>
            owner.deliver(s, call, { ack: () => undefined, redelivered: true, linkEpoch: gate.epoch }),
          );
        return true;
      };
      owner.deliver(s, call, { ack: () => undefined, redelivered: false, release, linkEpoch: gate.epoch });
      gate.dropAll(); // the link closes while lapsed
      back();
      const c2 = { ...call, uniqueId: 'c2' };
      owner.deliver(s, c2, { ack: () => undefined, redelivered: false, linkEpoch: gate.epoch });
      const turns = (outcome: string) =>
        metric(registry, 'ocpp_gateway_route_order_copy_turns_total', outcome);
      return { delivered, answerC1: () => answers.get('c1')?.(), releases: () => releases, turns };
    }

    it('the copy runs in the turn of the CALL it copies: the next CALL stays behind it', async () => {
      const t = givenBack(true);
      await flush();
      assert.equal(t.delivered.length, 0, 'c2 waits for the take of c1');
      t.answerC1();
      await flush();
      await flush();
      assert.equal(t.releases(), 1, 'c1 is given back, not written over its closed link');
      // Entering the line at its end, the copy of c1 was written after c2 (the chaos run's 4 reordered).
      assert.deepEqual(
        t.delivered.map((d) => d.message.uniqueId),
        ['c1', 'c2'],
      );
      assert.deepEqual([await t.turns('taken'), await t.turns('expired')], [1, 0]);
    });

    it('a copy that does not come frees the turn after the wait: the line goes on', async () => {
      const t = givenBack(false, 30);
      t.answerC1();
      await flush();
      assert.equal(t.delivered.length, 0, 'c2 waits for the copy of c1');
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.deepEqual(
        t.delivered.map((d) => d.message.uniqueId),
        ['c2'],
      );
      assert.deepEqual([await t.turns('taken'), await t.turns('expired')], [0, 1]);
    });
  });

  it('a parked CALL left to the broker hands its place to the broker copy the inbox hands out at once', async () => {
    // c1's take fails (lapsed) and c1 is parked; c2 waits behind it. The link closes: c1 is left to
    // the broker, whose copy had come on the new connection and is handed out as c1 is released.
    const { gate, s, delivered, owner } = lapsedOwner();
    const release = (): boolean => {
      queueMicrotask(() =>
        owner.deliver(s, call, { ack: () => undefined, redelivered: true, linkEpoch: gate.epoch }),
      );
      return true;
    };
    owner.deliver(s, call, { ack: () => undefined, redelivered: false, release, linkEpoch: gate.epoch });
    await flush();
    owner.deliver(s, { ...call, uniqueId: 'c2' }, { ack: () => undefined, redelivered: false });
    await flush();
    gate.dropAll();
    await flush();
    await flush();
    assert.deepEqual(
      delivered.map((d) => d.message.uniqueId),
      ['c1', 'c2'],
    );
  });
});
