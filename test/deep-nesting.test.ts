import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { DownstreamMessage } from '../src/ocpp/message.js';
import type { UpstreamPublisher } from '../src/bridge/upstream-publisher.js';
import { CommandRouter, type RouterCluster } from '../src/cluster/command-router.js';
import { OwnerCache } from '../src/cluster/owner-cache.js';
import { OwnerDelivery } from '../src/cluster/owner-delivery.js';
import type { RedisLink } from '../src/cluster/redis-link.js';
import { RouteBus } from '../src/cluster/route-bus.js';
import { encodeEnvelope } from '../src/cluster/route-envelope.js';
import { EnvelopeEncodeError } from '../src/errors.js';
import { ClusterMetrics } from '../src/observability/cluster-metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { ClusterFixture, answerCalls, command, metricValue } from './harness/cluster.js';
import { setup, type Fixture } from './harness/fixture.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { waitForOwner } from './harness/owner-entries.js';
import { eventually, sleep } from './harness/time.js';

/**
 * Issue 8 items 3 and 4: JSON nested thousands of levels deep. JSON.parse copes; JSON.stringify
 * and msgpackr recurse and throw. No command may end in silence over it, and no station's
 * queue may stay blocked behind it.
 */

const LEVELS = 5000;
/** `[[[...]]]`, LEVELS deep: about 10 KB. */
const deepArrayText = '['.repeat(LEVELS) + ']'.repeat(LEVELS);

/** The same depth as a JS value, built without recursion (for the guards behind the parser). */
function deepValue(levels: number): unknown[] {
  const root: unknown[] = [];
  let inner = root;
  for (let i = 1; i < levels; i++) {
    const next: unknown[] = [];
    inner.push(next);
    inner = next;
  }
  return root;
}

const deepCall = (id: string): string =>
  `{"MessageTypeId":2,"UniqueId":"${id}","Action":"DataTransfer","Payload":{"vendorId":"v","data":${deepArrayText}}}`;
const deepResult = (id: string): string =>
  `{"MessageTypeId":3,"UniqueId":"${id}","Payload":{"status":"Accepted","nest":${deepArrayText}}}`;

type Reply = { MessageTypeId: number; UniqueId: string; ErrorCode?: string; ErrorDetails?: unknown };
type Diagnostic = {
  reason?: string;
  problem?: string;
  uniqueId?: string;
  cid?: string;
  messageTypeId?: number;
};

async function metric(fx: Fixture, series: string): Promise<number> {
  return metricValue(await fx.gateway.metrics.registry.metrics(), series);
}

describe('deeply nested JSON, single node (mosquitto)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_CALL_TIMEOUT_MS: '3000' });
  });
  after(() => fx.teardown());

  it('answers a CALL nested 5,000 levels with `malformed`, and the next command goes through', async () => {
    const cp = await fx.connect('deep-call');
    await fx.backend.publish('ocpp/cs/deep-call', deepCall('deep1'));
    const reply = await fx.backend.waitFor('ocpp/cp/deep-call/Reply', (j: Reply) => j.UniqueId === 'deep1');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'malformed' });
    await fx.backend.publish('ocpp/cs/deep-call', command('next1'));
    assert.deepEqual(await cp.next(), [
      2,
      'next1',
      'ChangeAvailability',
      { connectorId: 0, type: 'Operative' },
    ]);
    cp.send([3, 'next1', { status: 'Accepted' }]);
    await fx.backend.waitFor(
      'ocpp/cp/deep-call/Reply',
      (j: Reply) => j.UniqueId === 'next1' && j.MessageTypeId === 3,
    );
  });

  it('reports a CALLRESULT nested 5,000 levels on the diagnostics topic', async () => {
    const cp = await fx.connect('deep-result');
    cp.send([2, 'up1', 'Heartbeat', {}]);
    await fx.backend.waitFor('ocpp/cp/deep-result');
    await fx.backend.publish('ocpp/cs/deep-result', deepResult('up1'));
    const diagnostic = await fx.backend.waitFor(
      'ocpp/gw/diagnostics',
      (j: Diagnostic) => j.uniqueId === 'up1',
    );
    assert.deepEqual(
      { ...(diagnostic.json as Diagnostic), node: undefined, at: undefined, topic: undefined },
      {
        reason: 'malformed',
        problem: 'too_deep',
        cid: 'deep-result',
        uniqueId: 'up1',
        messageTypeId: 3,
        node: undefined,
        at: undefined,
        topic: undefined,
      },
    );
    await fx.backend.publish('ocpp/cs/deep-result', {
      MessageTypeId: 3,
      UniqueId: 'up1',
      Payload: { currentTime: '2023-06-21T14:20:39Z' },
    });
    assert.deepEqual(await cp.next(), [3, 'up1', { currentTime: '2023-06-21T14:20:39Z' }]);
  });

  it('answers a command whose CALLERROR has ErrorDetails nested 5,000 levels (`invalid_reply`)', async () => {
    const cp = await fx.connect('deep-error');
    await fx.backend.publish('ocpp/cs/deep-error', command('c1'));
    await cp.next();
    cp.send(`[4,"c1","GenericError","busy",{"nest":${deepArrayText}}]`);
    const reply = await fx.backend.waitFor('ocpp/cp/deep-error/Reply', (j: Reply) => j.UniqueId === 'c1');
    assert.equal((reply.json as Reply).ErrorCode, 'FormationViolation');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'invalid_reply' });
    // The station is not at fault for the gateway: its socket stays open and the next command flows.
    await fx.backend.publish('ocpp/cs/deep-error', command('c2'));
    assert.equal(((await cp.next()) as unknown[])[1], 'c2');
    assert.equal(cp.closed, undefined);
    assert.equal(await metric(fx, 'ocpp_gateway_disconnects_total{reason="remote_error"}'), 0);
  });

  it('counts a 1011 close chosen by the gateway as internal_error, not remote_error', async () => {
    assert.match(
      await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_disconnects_total'),
      /reason="internal_error"} 0/,
      'the label exists from the start',
    );
    const cp = await fx.connect('deep-bug');
    const session = fx.gateway.sessions.lookup('deep-bug');
    assert.ok(session !== undefined);
    // A bug in a frame handler, made on purpose: the socket pays for it, not the node.
    session.onText = () => {
      throw new Error('injected handler failure');
    };
    cp.send([2, 'b1', 'Heartbeat', {}]);
    assert.equal((await cp.waitClose()).code, 1011);
    const event = await fx.backend.waitFor('ocpp/events/deep-bug/disconnected');
    assert.equal((event.json as { reason: string }).reason, 'internal_error');
    assert.equal(await metric(fx, 'ocpp_gateway_disconnects_total{reason="internal_error"}'), 1);
    assert.equal(await metric(fx, 'ocpp_gateway_disconnects_total{reason="remote_error"}'), 0);
  });

  // The parser refuses JSON deeper than 64 levels first; these reach the serialisation guards
  // behind it directly, through a real session.
  it('answers a queued CALL that cannot be encoded with `malformed` and writes the next one', async () => {
    const cp = await fx.connect('guard-call');
    const session = fx.gateway.sessions.lookup('guard-call');
    assert.ok(session !== undefined);
    await fx.backend.publish('ocpp/cs/guard-call', command('g1'));
    assert.equal(((await cp.next()) as unknown[])[1], 'g1');
    let settled = 0;
    const deep: DownstreamMessage = {
      type: 2,
      uniqueId: 'g2',
      action: 'DataTransfer',
      payload: { vendorId: 'v', data: deepValue(20_000) },
    };
    session.deliver(deep, () => (settled += 1));
    await fx.backend.publish('ocpp/cs/guard-call', command('g3'));
    await sleep(100);
    cp.send([3, 'g1', { status: 'Accepted' }]);
    const reply = await fx.backend.waitFor('ocpp/cp/guard-call/Reply', (j: Reply) => j.UniqueId === 'g2');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'malformed' });
    assert.equal(((await cp.next()) as unknown[])[1], 'g3', 'the queue moved on');
    await eventually(() => settled === 1, 3000, 'the deep command acknowledged once');
    cp.send([3, 'g3', { status: 'Accepted' }]);
    await fx.backend.waitFor('ocpp/cp/guard-call/Reply', (j: Reply) => j.UniqueId === 'g3');
    // With nothing outstanding the CALL is refused at once, and the queue stays usable.
    session.deliver({ ...deep, uniqueId: 'g4' }, () => (settled += 1));
    const g4 = await fx.backend.waitFor('ocpp/cp/guard-call/Reply', (j: Reply) => j.UniqueId === 'g4');
    assert.deepEqual((g4.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'malformed' });
    await fx.backend.publish('ocpp/cs/guard-call', command('g5'));
    assert.equal(((await cp.next()) as unknown[])[1], 'g5');
    await eventually(() => settled === 2, 3000, 'both deep commands acknowledged');
    assert.equal(cp.closed, undefined);
  });

  it('reports a CALLRESULT that cannot be encoded on the diagnostics topic', async () => {
    await fx.connect('guard-result');
    const session = fx.gateway.sessions.lookup('guard-result');
    assert.ok(session !== undefined);
    let settled = 0;
    session.deliver({ type: 3, uniqueId: 'r1', payload: { nest: deepValue(20_000) } }, () => (settled += 1));
    const diagnostic = await fx.backend.waitFor(
      'ocpp/gw/diagnostics',
      (j: Diagnostic) => j.uniqueId === 'r1',
    );
    assert.equal((diagnostic.json as Diagnostic).reason, 'malformed');
    assert.equal((diagnostic.json as Diagnostic).messageTypeId, 3);
    await eventually(() => settled === 1, 3000, 'the message acknowledged');
  });
});

describe('deeply nested JSON on the forwarded path (2 nodes, mosquitto, Redis)', () => {
  let f: ClusterFixture;
  let diagnostics: MqttObserver;
  before(async () => {
    f = await ClusterFixture.start('standalone', 2);
    diagnostics = await MqttObserver.connect(f.mosquitto.url, ['ocpp/gw/diagnostics']);
  });
  after(async () => {
    await diagnostics.end();
    await f.teardown();
  });

  it('answers nested CALLs received by either node with `malformed`; later commands are answered', async () => {
    const cp = await f.connect(1, 'deep-fwd');
    answerCalls(cp);
    await waitForOwner(f, 'deep-fwd', 1, 5000);
    // mosquitto hands a shared subscription's messages round-robin: both nodes get some.
    const deepIds = ['d0', 'd1', 'd2', 'd3'];
    for (const id of deepIds) await f.backend.publish('ocpp/cs/deep-fwd', deepCall(id));
    const reasonOf = (id: string): string | undefined => {
      const m = f.backend.on('ocpp/cp/deep-fwd/Reply').find((r) => (r.json as Reply).UniqueId === id);
      return (m?.json as { ErrorDetails?: { reason?: string } } | undefined)?.ErrorDetails?.reason;
    };
    await eventually(() => deepIds.every((id) => reasonOf(id) !== undefined), 10_000, 'an outcome for each');
    assert.deepEqual(
      deepIds.map(reasonOf),
      deepIds.map(() => 'malformed'),
    );
    const onNode0 = metricValue(
      await f.metrics(0),
      'ocpp_gateway_command_failures_total{reason="malformed"}',
    );
    assert.ok(onNode0 > 0, 'some reached node 0, which does not own the charge point');
    const normalIds = ['n0', 'n1', 'n2', 'n3'];
    for (const id of normalIds) await f.backend.publish('ocpp/cs/deep-fwd', command(id));
    const answered = (id: string): boolean =>
      f.backend
        .on('ocpp/cp/deep-fwd/Reply')
        .some((r) => (r.json as Reply).UniqueId === id && (r.json as Reply).MessageTypeId === 3);
    await eventually(() => normalIds.every(answered), 10_000, 'every normal command answered by the CP');
  });

  it('reports nested CALLRESULTs received by either node on the diagnostics topic', async () => {
    await f.connect(1, 'deep-fwd-r');
    await waitForOwner(f, 'deep-fwd-r', 1, 5000);
    const ids = ['r0', 'r1', 'r2', 'r3'];
    for (const id of ids) await f.backend.publish('ocpp/cs/deep-fwd-r', deepResult(id));
    const reported = (id: string): boolean =>
      diagnostics.seen.some((m) => {
        const d = m.json as Diagnostic;
        return d.uniqueId === id && d.reason === 'malformed' && d.cid === 'deep-fwd-r';
      });
    await eventually(() => ids.every(reported), 10_000, 'a diagnostic for each nested CALLRESULT');
  });
});

describe('route envelope encoding guard (behind the parser)', () => {
  const deep: DownstreamMessage = {
    type: 2,
    uniqueId: 'e1',
    action: 'DataTransfer',
    payload: { data: deepValue(20_000) },
  };

  it('raises a typed error when msgpackr cannot pack a command', () => {
    const envelope = {
      v: 1,
      k: 'deliver',
      from: 'a',
      ref: 1,
      cid: 'cp',
      epoch: 'x',
      dup: false,
      msg: deep,
    } as const;
    assert.throws(
      () => encodeEnvelope(envelope),
      (error: unknown) => {
        assert.ok(error instanceof EnvelopeEncodeError);
        assert.equal(error.code, 'GW_ERR_ENVELOPE_ENCODE');
        return true;
      },
    );
  });

  it('answers a forwarded command that cannot be packed with `malformed`, not `unroutable`', async () => {
    const outcomes: Array<{ uniqueId: string; reason: string }> = [];
    let settled = 0;
    // Only the publisher is a stand-in (it records); the router, bus and envelope code are real.
    const publisher = {
      undelivered: (...args: [string, number, string, unknown, string, (() => void)?]) => {
        outcomes.push({ uniqueId: args[2], reason: args[4] });
        args[5]?.();
      },
    } as unknown as UpstreamPublisher;
    const redis = { publish: () => Promise.resolve(1) } as unknown as RedisLink;
    const metrics = new ClusterMetrics(new Registry());
    const log = createLogger({ logLevel: 'silent', nodeId: 'a' });
    const cluster: RouterCluster = {
      registry: {
        lookup: () => Promise.resolve({ nodeId: 'b', epoch: 'e' }),
      } as unknown as RouterCluster['registry'],
      cache: new OwnerCache(60_000, 10),
      bus: new RouteBus(redis, 'test', 'a', metrics, log),
      routeTimeoutMs: 5000,
      metrics,
    };
    const router = new CommandRouter({
      nodeId: 'a',
      local: { lookup: () => undefined },
      owner: new OwnerDelivery(publisher, undefined, metrics),
      publisher,
      cluster,
      log,
    });
    router.route('cp', deep, { ack: () => (settled += 1), redelivered: false });
    await eventually(() => outcomes.length > 0, 2000, 'an outcome');
    assert.deepEqual(outcomes, [{ uniqueId: 'e1', reason: 'malformed' }]);
    assert.equal(router.pendingCount, 0);
    assert.equal(settled, 1, 'the MQTT message is acknowledged with the error reply');
  });
});
