import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { UpstreamPublisher } from '../../src/bridge/upstream-publisher.js';
import { CommandRouter, type RouterCluster } from '../../src/cluster/command-router.js';
import { handleDeliver } from '../../src/cluster/deliver-envelope.js';
import { LapseGate } from '../../src/cluster/lapse-gate.js';
import { LostVerdict } from '../../src/cluster/lost-verdict.js';
import { OwnerCache } from '../../src/cluster/owner-cache.js';
import { OwnerDelivery } from '../../src/cluster/owner-delivery.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { RouteBus } from '../../src/cluster/route-bus.js';
import { decodeEnvelope, type RouteEnvelope } from '../../src/cluster/route-envelope.js';
import type { SelfLiveness } from '../../src/cluster/self-liveness.js';
import { SentMarks } from '../../src/cluster/sent-marks.js';
import { StaleLines } from '../../src/cluster/stale-lines.js';
import type { Session } from '../../src/edge/session/session.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Ack, DownstreamMessage } from '../../src/ocpp/message.js';
import { V16 } from '../../src/ocpp/versions/v16.js';
import { FakeClock } from '../harness/fake-clock.js';
import { RedisServer } from '../harness/redis.js';
import { eventually } from '../harness/time.js';

/**
 * The `node_lost` verdict against a late write (docs/architecture.md §5.13), the interleaving a
 * silent partition produces: node `a` forwards a CALL to its owner `b`; `b`'s take of the
 * written-mark gets no answer in time (Redis silent), so `b` parks the command; `a` judges `b`
 * lost; the cut heals and `b` routes the parked command again. Sender, owner, gate, marks and
 * envelopes are the real ones, the marks in a real redis-server; the sender's route timeout runs
 * on a fake clock. A command must end written or answered `node_lost`, never both.
 */
const ROUTE_TIMEOUT_MS = 20_000;
const log = createLogger({ logLevel: 'silent', nodeId: 'test' });
const call: DownstreamMessage = { type: 2, uniqueId: 'c1', action: 'Reset', payload: { type: 'Soft' } };

let redis: RedisServer;
/** Every client of every scenario, closed at the end even when an assertion failed. */
const clients: Redis[] = [];
before(async () => {
  redis = await RedisServer.start();
});
after(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

/** How `b`'s first take of the mark fails: executed by Redis with the reply lost, or never executed. */
type Silence = 'executed' | 'not_executed';

async function scenario(prefix: string, silence: Silence) {
  const clock = new FakeClock();
  const link = (): RedisLink => {
    const cmd = new Redis(redis.url);
    clients.push(cmd);
    return { cmd } as unknown as RedisLink;
  };
  const outcomes: string[] = [];
  let acks = 0;

  // Node a: the sender.
  const publisherA = {
    undelivered: (...args: [string, number, string, unknown, string, (() => void)?]) => {
      outcomes.push(args[4]);
      args[5]?.();
    },
  } as unknown as UpstreamPublisher;
  const sent: Buffer[] = [];
  const busLink = {
    publish: (_c: string, b: Buffer) => (sent.push(b), Promise.resolve(1)),
  } as unknown as RedisLink;
  const metricsA = new ClusterMetrics(new Registry());
  const marksA = new SentMarks(link(), prefix, 'a|run1', 60_000, 5_000, log);
  const cluster: RouterCluster = {
    registry: {
      lookup: () => Promise.resolve({ nodeId: 'b', epoch: 'e1' }),
    } as unknown as RouterCluster['registry'],
    cache: new OwnerCache(60_000, 10),
    bus: new RouteBus(busLink, prefix, 'a', metricsA, log),
    routeTimeoutMs: ROUTE_TIMEOUT_MS,
    metrics: metricsA,
    lostVerdict: new LostVerdict(marksA, 'a', ROUTE_TIMEOUT_MS, metricsA.partition, clock),
  };
  const a = new CommandRouter({
    nodeId: 'a',
    local: { lookup: () => undefined },
    owner: new OwnerDelivery(publisherA, marksA, metricsA),
    publisher: publisherA,
    cluster,
    log,
    clock,
  });

  // Node b: the owner, whose Redis goes silent for the first take of the mark.
  const metricsB = new ClusterMetrics(new Registry());
  const linkB = link();
  const marksB = new SentMarks(linkB, prefix, 'b|run1', 60_000, 5_000, log);
  const scripted = linkB.cmd as unknown as { ocppMark: (...args: unknown[]) => Promise<unknown> };
  const realMark = scripted.ocppMark.bind(linkB.cmd);
  let silent = true;
  scripted.ocppMark = async (...args: unknown[]) => {
    if (!silent) return realMark(...args);
    silent = false;
    if (silence === 'executed') await realMark(...args);
    throw new Error('Command timed out');
  };
  let back: () => void = () => undefined;
  const liveness = {
    lapsed: false,
    onBack: () => undefined,
    confirmed: () => new Promise<void>((resolve) => (back = resolve)),
  } as unknown as SelfLiveness;
  const gate = new LapseGate(liveness, 60_000, metricsB.partition, log);
  const written: Ack[] = [];
  const session = {
    cid: 'cp1',
    epoch: 'e1',
    version: V16,
    deliver: (_m: DownstreamMessage, ack?: Ack) => written.push(ack ?? (() => undefined)),
  } as unknown as Session;
  const owner = new OwnerDelivery({} as UpstreamPublisher, marksB, metricsB, gate);
  const deliver = (envelope: RouteEnvelope): void => {
    if (envelope.k !== 'deliver') throw new Error(`unexpected ${envelope.k}`);
    handleDeliver(envelope, {
      table: { lookup: () => session },
      owner,
      liveness,
      commandTimeoutMs: 2000,
      metrics: metricsB.partition,
      stale: new StaleLines(60_000),
      reply: (env, outcome) => a.outcome(env.ref, outcome),
    });
  };

  a.route('cp1', call, { ack: () => void (acks += 1), redelivered: false });
  await eventually(() => sent.length === 1, 5000, 'the deliver envelope sent');
  const decoded = decodeEnvelope(sent[0] ?? Buffer.alloc(0));
  assert.ok(decoded.ok);
  deliver(decoded.envelope);
  await eventually(() => !silent, 5000, 'the silent take');
  return {
    a,
    clock,
    outcomes,
    written,
    acks: () => acks,
    heal: () => back(),
  };
}

const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

describe('node_lost verdict and a late write of the same CALL (docs/architecture.md §5.13)', () => {
  it('a take that never reached Redis: the sender fences the mark, answers node_lost, and the owner never writes it', async () => {
    const t = await scenario('nt1', 'not_executed');
    await settle();
    t.a.nodeLost('b');
    await eventually(() => t.outcomes.length === 1, 5000, 'the verdict');
    assert.deepEqual(t.outcomes, ['node_lost']);
    t.heal(); // the parked command is routed again on the owner
    await settle(200);
    assert.equal(t.written.length, 0, 'a command answered node_lost must not be written');
    assert.equal(t.acks(), 1);
  });

  it('a take Redis executed: the verdict waits; the owner writes it after the heal and its done ends it', async () => {
    const t = await scenario('nt2', 'executed');
    await settle();
    t.a.nodeLost('b');
    await settle(200);
    t.heal();
    await eventually(() => t.written.length === 1, 5000, 'written after the heal');
    t.written[0]?.(); // the charge point answers: the owner replies done
    await eventually(() => t.acks() === 1, 5000, 'the sender acknowledged');
    t.clock.advance(ROUTE_TIMEOUT_MS * 2);
    assert.deepEqual(t.outcomes, [], 'no error reply for a command the charge point executed');
    assert.equal(t.clock.liveTimers, 0);
  });

  it('a take Redis executed and an owner that never comes back: node_lost at the route deadline, once', async () => {
    const t = await scenario('nt3', 'executed');
    await settle();
    t.a.nodeLost('b');
    await settle(200);
    t.clock.advance(ROUTE_TIMEOUT_MS - 1);
    assert.deepEqual(t.outcomes, []);
    t.clock.advance(1);
    assert.deepEqual(t.outcomes, ['node_lost']);
    assert.equal(t.acks(), 1);
    assert.equal(t.clock.liveTimers, 0);
  });
});
