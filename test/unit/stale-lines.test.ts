import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { handleDeliver } from '../../src/cluster/deliver-envelope.js';
import { LapseGate } from '../../src/cluster/lapse-gate.js';
import { OwnerDelivery } from '../../src/cluster/owner-delivery.js';
import type { RouteEnvelope } from '../../src/cluster/route-envelope.js';
import type { SelfLiveness } from '../../src/cluster/self-liveness.js';
import { MARKS_UNAVAILABLE, type SentMarks } from '../../src/cluster/sent-marks.js';
import { StaleLines } from '../../src/cluster/stale-lines.js';
import type { UpstreamPublisher } from '../../src/bridge/upstream-publisher.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Session } from '../../src/edge/session/session.js';
import { PartitionMetrics } from '../../src/observability/partition-metrics.js';
import type { DownstreamMessage } from '../../src/ocpp/message.js';

type Deliver = Extract<RouteEnvelope, { k: 'deliver' }>;

/**
 * `deliver` envelopes for cp1 handled by `handleDeliver` on an owner node made of these parts,
 * numbered in order; the replies to the sender are recorded as "uniqueId outcome".
 */
function ownerNode(parts: { owner: OwnerDelivery; liveness: object; session: Session; now?: () => number }): {
  replies: string[];
  deliver: (uniqueId: string) => void;
} {
  const replies: string[] = [];
  const deps = {
    table: { lookup: () => parts.session },
    owner: parts.owner,
    liveness: parts.liveness as SelfLiveness,
    commandTimeoutMs: 60_000,
    metrics: new PartitionMetrics(new Registry()),
    reply: (e: Deliver, outcome: 'done' | 'stale') => replies.push(`${e.msg.uniqueId} ${outcome}`),
    stale: new StaleLines(10_000, parts.now),
  };
  let ref = 0;
  const deliver = (uniqueId: string): void => {
    ref += 1;
    const msg = { type: 2, uniqueId, action: 'DataTransfer', payload: {} } as const;
    handleDeliver(
      { v: 1, k: 'deliver', from: 'node-0', ref, cid: 'cp1', epoch: 'e1', dup: false, msg, at: Date.now() },
      deps,
    );
  };
  return { replies, deliver };
}

/** cp1's session, which records the uniqueId of every CALL written to it. */
function writingSession(written: string[]): Session {
  return {
    cid: 'cp1',
    epoch: 'e1',
    deliver: (m: DownstreamMessage) => written.push(m.uniqueId),
  } as unknown as Session;
}

/** A lapse gate whose liveness the test flips and whose Redis never confirms a beat on its own. */
function parkingGate(): { liveness: { lapsed: boolean }; gate: LapseGate } {
  const liveness = {
    lapsed: false,
    onBack: () => undefined,
    confirmed: () => new Promise<void>(() => undefined),
  };
  const log = createLogger({ logLevel: 'silent', nodeId: 'owner' });
  const gate = new LapseGate(
    liveness as unknown as SelfLiveness,
    60_000,
    new PartitionMetrics(new Registry()),
    log,
  );
  return { liveness, gate };
}

/** The owner's `deliver` handling with a liveness the test flips and an owner that records. */
function owner(now: () => number = Date.now) {
  const liveness = { lapsed: false };
  const written: string[] = [];
  const session = { cid: 'cp1', epoch: 'e1' } as unknown as Session;
  const recording = {
    deliver: (_s: Session, m: DownstreamMessage) => written.push(m.uniqueId),
    refuseInLine: (_cid: string, refuse: () => void) => refuse(),
  } as unknown as OwnerDelivery;
  const { replies, deliver } = ownerNode({ owner: recording, liveness, session, now });
  return { liveness, written, replies, deliver };
}

describe("the owner's `stale` and per-charge-point order (docs/architecture.md §5.14)", () => {
  it('a command refused while lapsed is not overtaken by the next one once liveness is back', () => {
    const o = owner();
    o.liveness.lapsed = true;
    o.deliver('c7');
    o.liveness.lapsed = false;
    // c8 was routed as soon as c7 was published; written now, it would go before c7's second routing.
    o.deliver('c8');
    assert.deepEqual(o.written, []);
    assert.deepEqual(o.replies, ['c7 stale', 'c8 stale']);
    // The sender routes both again, in the order of the replies; then the line is gone.
    o.deliver('c7');
    o.deliver('c8');
    o.deliver('c9');
    assert.deepEqual(o.written, ['c7', 'c8', 'c9']);
  });

  it('a line its sender never routes again expires after the hold time', () => {
    let now = 0;
    const o = owner(() => now);
    o.liveness.lapsed = true;
    o.deliver('c1');
    o.liveness.lapsed = false;
    now = 9_999;
    o.deliver('c2');
    assert.deepEqual(o.written, []);
    now = 9_999 + 10_000;
    o.deliver('c3');
    assert.deepEqual(o.written, ['c3']);
  });

  it('a command refused at once is answered after an earlier one parked for its mark, not before', async () => {
    // c8 reached the owner before its liveness lapsed and waits for its written-mark, parked;
    // c9 arrives lapsed and is refused. Answered c9 first, the sender would route c9, then c8.
    const { liveness, gate } = parkingGate();
    const marks = {
      writer: 'node-b|run',
      lastError: new Error('Command timed out'),
      take: () => Promise.resolve(MARKS_UNAVAILABLE),
    } as unknown as SentMarks;
    const owner = new OwnerDelivery({} as UpstreamPublisher, marks, new ClusterMetrics(new Registry()), gate);
    const session = { cid: 'cp1', epoch: 'e1', deliver: () => undefined } as unknown as Session;
    const { replies, deliver } = ownerNode({ owner, liveness, session });
    deliver('c8');
    liveness.lapsed = true;
    await new Promise<void>((resolve) => setImmediate(resolve));
    deliver('c9');
    assert.deepEqual(replies, [], 'c9 answered while c8, before it, was parked');
    // The MQTT link closes while lapsed: c8 is left behind, refused, then c9.
    gate.dropAll();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(replies, ['c8 stale', 'c9 stale']);
  });

  it('a command arriving while a refusal waits in line is refused too, not written before it', async () => {
    // c24's take is still out; c25 arrives lapsed and is refused behind it; liveness is back when
    // c26 arrives. Written, c26 would reach the station before c25's second routing.
    const liveness = { lapsed: false };
    let answer24: () => void = () => undefined;
    const marks = {
      writer: 'node-b|run',
      take: (_cid: string, uniqueId: string) =>
        uniqueId === 'c24'
          ? new Promise<undefined>((resolve) => (answer24 = () => resolve(undefined)))
          : Promise.resolve(undefined),
      finished: () => undefined,
    } as unknown as SentMarks;
    const owner = new OwnerDelivery({} as UpstreamPublisher, marks, new ClusterMetrics(new Registry()));
    const written: string[] = [];
    const session = writingSession(written);
    const { replies, deliver } = ownerNode({ owner, liveness, session });
    deliver('c24');
    liveness.lapsed = true;
    deliver('c25');
    liveness.lapsed = false;
    deliver('c26');
    answer24();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(written, ['c24']);
    assert.deepEqual(replies, ['c25 stale', 'c26 stale']);
  });

  it('a command admitted behind one that is then left behind is refused too, not written before it', async () => {
    // The chaos run's order-keeping mode (a Redis failover): c19's take timed out and it was parked;
    // c20 came (liveness not lapsed) and waited for its own take; the MQTT link closed, c19 was
    // refused and routed again, and c20's take, answered then, wrote c20 before c19 came back.
    const { liveness, gate } = parkingGate();
    let answer20: () => void = () => undefined;
    let redisBack = false;
    const abandoned: string[] = [];
    const marks = {
      writer: 'node-b|run',
      lastError: new Error('Command timed out'),
      take: (_cid: string, uniqueId: string) => {
        if (redisBack) return Promise.resolve(undefined);
        if (uniqueId === 'c19') return Promise.resolve(MARKS_UNAVAILABLE);
        return new Promise<undefined>((resolve) => (answer20 = () => resolve(undefined)));
      },
      abandon: (_cid: string, uniqueId: string) => abandoned.push(uniqueId),
      finished: () => undefined,
    } as unknown as SentMarks;
    const owner = new OwnerDelivery({} as UpstreamPublisher, marks, new ClusterMetrics(new Registry()), gate);
    const written: string[] = [];
    const session = writingSession(written);
    const { replies, deliver } = ownerNode({ owner, liveness, session });
    const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
    deliver('c19');
    await turn();
    deliver('c20');
    gate.dropAll();
    await turn();
    assert.deepEqual(replies, ['c19 stale']);
    answer20();
    await turn();
    assert.deepEqual(written, [], 'c20 written while c19, before it, was being routed again');
    assert.deepEqual(replies, ['c19 stale', 'c20 stale']);
    assert.deepEqual(abandoned, ['c20'], "c20's mark, taken, must not make its next copy look written");
    // Both come back in order and are written; then the line is gone.
    redisBack = true;
    deliver('c19');
    deliver('c20');
    deliver('c21');
    await turn();
    assert.deepEqual(written, ['c19', 'c20', 'c21']);
  });
});
