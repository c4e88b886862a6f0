import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StationOrder } from '../../src/cluster/station-order.js';
import { call, metric, rig, settle } from '../harness/router-rig.js';

describe('per-charge-point order on the routing node', () => {
  it('a later lookup answered first does not overtake the one still waiting on Redis', async () => {
    const t = rig();
    t.hold(true);
    t.send('cp', 'c1');
    t.send('cp', 'c2');
    await settle();
    // The first lookup is slow (a redirect re-sent, a slow shard); any later one is answered at once.
    t.hold(false);
    t.held[1]?.answer(t.owner);
    t.send('cp', 'c3'); // finds the owner cached if c2's lookup has already filled the cache
    await settle();
    assert.deepEqual(t.left, [], 'nothing leaves before c1');
    t.held[0]?.answer(t.owner);
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c2', 'b:c3']);
    assert.equal(t.r.pendingCount, 3); // all three forwarded, none still in a line
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_held'), 0);
  });

  it('an adopted session that went back to its node: what it delivered is not routed from here any more', async () => {
    // An adopter routes the copies of c1 and c2 (Delivery.live): c1's lookup is slow, c2 waits behind.
    const t = rig();
    let live = true;
    const released: string[] = [];
    const adopted = (id: string) => ({
      ack: () => undefined,
      redelivered: true,
      release: () => (released.push(id), false),
      live: () => live,
    });
    t.hold(true);
    t.r.route('cp', call('c1'), adopted('c1'));
    t.r.route('cp', call('c2'), adopted('c2'));
    await settle();
    // The node takes its session back: the broker hands it c1 and c2, which it routes in order.
    // Forwarded from here as well, c2 raced the node's c1 to the owner (a chaos run: 4 reordered).
    live = false;
    t.held[0]?.answer(t.owner);
    await settle();
    assert.deepEqual([t.left, released], [[], ['c1', 'c2']]);
    assert.equal(t.r.pendingCount, 0);
  });

  it('a cache hit waits behind a retry that asks the registry after 0 receivers', async () => {
    let receivers = 0; // the cached owner is gone: nobody on its channel
    const t = rig({ receivers: () => receivers });
    t.cache.set('cp', { nodeId: 'b', epoch: 'old' });
    t.hold(true);
    t.send('cp', 'c1'); // cached owner, 0 receivers: forgotten, looked up again (held)
    await settle();
    t.cache.set('cp', t.owner); // another command of the node filled the cache meanwhile
    t.send('cp', 'c2');
    await settle();
    assert.deepEqual(t.left, ['b:c1']);
    receivers = 1;
    t.held[0]?.answer(t.owner);
    await settle();
    assert.deepEqual(t.left, ['b:c1', 'b:c1', 'b:c2']);
  });

  it('a charge point that connects here meanwhile gets its commands in order, the routed one first', async () => {
    const t = rig();
    t.hold(true);
    t.send('cp', 'c1');
    await settle();
    t.connectHere('cp');
    t.send('cp', 'c2'); // local now, but c1 is still being looked up
    await settle();
    assert.deepEqual(t.left, []);
    t.held[0]?.answer({ nodeId: 'a', epoch: 'e' });
    await settle();
    assert.deepEqual(t.left, ['local:c1', 'local:c2']);
    t.send('cp', 'c3'); // idle again: written at once
    assert.deepEqual(t.left, ['local:c1', 'local:c2', 'local:c3']);
  });

  it('keeps charge points independent: one slow lookup holds only its own charge point', async () => {
    const t = rig();
    t.hold(true);
    t.send('slow', 's1');
    await settle();
    t.hold(false);
    t.send('fast', 'f1');
    t.send('fast', 'f2');
    await settle();
    assert.deepEqual(t.left, ['b:f1', 'b:f2']);
    t.held[0]?.answer(t.owner);
    await settle();
    assert.deepEqual(t.left, ['b:f1', 'b:f2', 'b:s1']);
  });

  it('answers queue_full beyond the per-charge-point and the node cap, counted by bound, never dropped', async () => {
    const t = rig({ limits: { maxPerCp: 2, maxTotal: 3 } });
    t.hold(true);
    t.send('cp1', 'a1'); // in progress
    t.send('cp1', 'a2'); // waits
    t.send('cp1', 'a3'); // line full
    t.send('cp2', 'b1'); // the node's third
    t.send('cp3', 'x1'); // node full
    assert.deepEqual(t.left, ['queue_full:a3', 'queue_full:x1']);
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_overflow_total', 'station'), 1);
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_overflow_total', 'node'), 1);
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_total', 'queue_full'), 2);
    await settle();
    for (const lookup of t.held) lookup.answer(t.owner);
    t.hold(false);
    await settle();
    assert.deepEqual(t.left.slice(2).sort(), ['b:a1', 'b:a2', 'b:b1']);
    assert.ok(t.left.indexOf('b:a1') < t.left.indexOf('b:a2'));
    assert.equal(await metric(t.registry, 'ocpp_gateway_route_order_held'), 0);
  });

  it('answers what still waits in a line `shutdown` on failAll; the one in progress still leaves', async () => {
    const t = rig();
    t.hold(true);
    t.send('cp', 'c1');
    t.send('cp', 'c2');
    await settle();
    t.r.failAll('shutdown');
    assert.deepEqual(t.left, ['shutdown:c2']);
    t.held[0]?.answer(t.owner);
    await settle();
    assert.deepEqual(t.left, ['shutdown:c2', 'b:c1']);
    t.r.failAll('shutdown');
    assert.deepEqual(t.left, ['shutdown:c2', 'b:c1', 'shutdown:c1']);
    assert.equal(t.r.pendingCount, 0);
    assert.equal(t.clock.liveTimers, 0);
  });
});

describe('StationOrder', () => {
  it('keeps no state for a charge point once its line drains (thousands of charge points)', async () => {
    const done: (() => void)[] = [];
    const started: string[] = [];
    const order = new StationOrder<string>({ maxPerCp: 10, maxTotal: 100_000 }, (cid, item) => {
      started.push(item);
      return new Promise<void>((resolve) => done.push(resolve));
    });
    for (let i = 0; i < 5000; i++) {
      order.enter(`cp${i}`, `${i}-1`);
      order.enter(`cp${i}`, `${i}-2`);
    }
    assert.equal(order.lineCount, 5000);
    assert.equal(order.size, 10_000);
    assert.equal(started.length, 5000); // one in progress per charge point
    while (done.length > 0) {
      for (const resolve of done.splice(0)) resolve();
      await settle();
    }
    assert.equal(started.length, 10_000);
    assert.ok(started.indexOf('7-1') < started.indexOf('7-2'));
    assert.equal(order.lineCount, 0);
    assert.equal(order.size, 0);
  });

  it('runs a long line of messages that leave at once without recursion, in order', () => {
    const started: number[] = [];
    let block = true;
    let release: () => void = () => undefined;
    const order = new StationOrder<number>({ maxPerCp: 100_000, maxTotal: 100_000 }, (_cid, item) => {
      started.push(item);
      if (!block) return undefined;
      block = false;
      return new Promise<void>((resolve) => (release = resolve));
    });
    for (let i = 0; i < 50_000; i++) order.enter('cp', i);
    release();
    return settle().then(() => {
      assert.equal(started.length, 50_000);
      assert.ok(started.every((item, i) => item === i));
      assert.equal(order.lineCount, 0);
    });
  });

  it('goes on after a start that rejects', async () => {
    const started: string[] = [];
    const order = new StationOrder<string>({ maxPerCp: 10, maxTotal: 10 }, (_cid, item) => {
      started.push(item);
      return item === 'a' ? Promise.reject(new Error('boom')) : undefined;
    });
    order.enter('cp', 'a');
    order.enter('cp', 'b');
    await settle();
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(order.lineCount, 0);
  });
});

describe('StationOrder with arrival ranks', () => {
  it('puts a message entered again in its arrival place, and the one in progress can give way to it', async () => {
    const started: number[] = [];
    const done: (() => void)[] = [];
    const order = new StationOrder<number>(
      { maxPerCp: 10, maxTotal: 10 },
      (_cid, item) => {
        started.push(item);
        return new Promise<void>((resolve) => done.push(resolve));
      },
      undefined,
      (item) => item,
    );
    order.enter('cp', 5); // in progress
    order.enter('cp', 7);
    order.enter('cp', 2); // came back: waits before 7, not before 5 which is in progress
    assert.equal(order.earlierWaiting('cp', 5), true);
    assert.equal(order.earlierWaiting('cp', 1), false);
    order.requeue('cp', 5); // 5 gives way to 2
    assert.equal(order.size, 4);
    while (done.length > 0) {
      for (const resolve of done.splice(0)) resolve();
      await settle();
    }
    assert.deepEqual(started, [5, 2, 5, 7]);
    assert.equal(order.size, 0);
    assert.equal(order.lineCount, 0);
  });
});
