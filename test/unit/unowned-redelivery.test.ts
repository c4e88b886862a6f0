import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { GatewayErrorReply, UpstreamPublisher } from '../../src/bridge/upstream-publisher.js';
import { CommandRouter, type RouterCluster } from '../../src/cluster/command-router.js';
import { OwnerCache } from '../../src/cluster/owner-cache.js';
import { lostWriteDescription, OwnerDelivery } from '../../src/cluster/owner-delivery.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import type { Owner } from '../../src/cluster/registry.js';
import { RouteBus } from '../../src/cluster/route-bus.js';
import { forwardFence, SentMarks } from '../../src/cluster/sent-marks.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createLogger } from '../../src/observability/logger.js';
import type { DownstreamMessage } from '../../src/ocpp/message.js';
import { V16 } from '../../src/ocpp/versions/v16.js';
import { RedisServer } from '../harness/redis.js';
import { eventually } from '../harness/time.js';

/**
 * A redelivered CALL (MQTT DUP) whose charge point has no owner (docs/architecture.md §5.5): the
 * node that read it first may have written it to the station and died (or the station left)
 * before its outcome. The chaos suite counted such commands answered `offline` though written
 * ("error reply though written"). The router must read the command's written-mark (§5.7) first.
 * Router, owner delivery and marks are the real ones, the marks in a real redis-server; the
 * registry finds no owner, or names this node without a session here.
 */
const log = createLogger({ logLevel: 'silent', nodeId: 'b' });
const clients: Redis[] = [];
let redis: RedisServer;
before(async () => {
  redis = await RedisServer.start();
});
after(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

function marks(prefix: string, writer: string): SentMarks {
  const cmd = new Redis(redis.url);
  clients.push(cmd);
  return new SentMarks({ cmd } as unknown as RedisLink, prefix, writer, 60_000, 5_000, log);
}

/** Node b (run 2), routing a command for `cp`; what the registry says of its owner is `owner`. */
function node(prefix: string, owner: Owner | undefined) {
  const answers: Array<{ reason: string; description?: string; errorCode?: string; protoVer?: string }> = [];
  let acks = 0;
  const publisher = {
    undelivered: (...args: [string, number, string, unknown, string, (() => void)?]) => {
      answers.push({ reason: args[4] });
      args[5]?.();
    },
    gatewayError: (reply: GatewayErrorReply) => {
      const { reason, description, errorCode } = reply;
      answers.push({ reason, description, errorCode, ...(reply.protoVer && { protoVer: reply.protoVer }) });
      reply.ack?.();
    },
  } as unknown as UpstreamPublisher;
  const metrics = new ClusterMetrics(new Registry());
  const bus = { publish: () => Promise.resolve(1) } as unknown as RedisLink;
  const cluster: RouterCluster = {
    registry: { lookup: () => Promise.resolve(owner) } as unknown as RouterCluster['registry'],
    cache: new OwnerCache(60_000, 10),
    bus: new RouteBus(bus, prefix, 'b', metrics, log),
    routeTimeoutMs: 20_000,
    metrics,
  };
  const router = new CommandRouter({
    nodeId: 'b',
    local: { lookup: () => undefined },
    owner: new OwnerDelivery(publisher, marks(prefix, 'b|run2'), metrics),
    publisher,
    cluster,
    log,
  });
  const route = async (message: DownstreamMessage, redelivered: boolean): Promise<void> => {
    const before = acks;
    router.route('cp', message, { ack: () => void (acks += 1), redelivered });
    await eventually(() => acks > before, 5000, 'the command acknowledged');
  };
  return { route, answers, acks: () => acks };
}

const reset: DownstreamMessage = { type: 2, uniqueId: 'c1', action: 'Reset', payload: { type: 'Soft' } };
const generic = V16.errorCodes.generic;

describe('a redelivered CALL nobody owns: its written-mark decides', () => {
  it('written by a node run gone since: node_lost, described as the owner describes it', async () => {
    await marks('gone', 'a|run1').take('cp', 'c1', false);
    const b = node('gone', undefined);
    await b.route(reset, true);
    const description = lostWriteDescription('a|run1');
    assert.deepEqual(b.answers, [{ reason: 'node_lost', description, errorCode: generic }]);
    assert.equal(b.acks(), 1);
  });

  it("our own entry without a session here: node_lost in the station's version spelling of the topic", async () => {
    await marks('own-entry', 'a|run1').take('cp', 'c1', false);
    const b = node('own-entry', { nodeId: 'b', epoch: 'run2.7~ocpp2.0.1' });
    await b.route(reset, true);
    const description = lostWriteDescription('a|run1');
    assert.deepEqual(b.answers, [
      { reason: 'node_lost', description, errorCode: generic, protoVer: 'ocpp2.0.1' },
    ]);
  });

  it('fenced by a sender that answered node_lost: node_lost, as the owner answers it', async () => {
    await marks('fenced', 'x|run9').fence('cp', 'c1', forwardFence('a', 4));
    const b = node('fenced', undefined);
    await b.route(reset, true);
    const description = lostWriteDescription(forwardFence('a', 4));
    assert.deepEqual(b.answers, [{ reason: 'node_lost', description, errorCode: generic }]);
  });

  it('written by this run (its session answered it when it closed): acknowledged, no second answer', async () => {
    await marks('mine', 'b|run2').take('cp', 'c1', false);
    const b = node('mine', undefined);
    await b.route(reset, true);
    assert.deepEqual(b.answers, []);
    assert.equal(b.acks(), 1);
  });

  it('no mark: offline, as before', async () => {
    const b = node('unmarked', undefined);
    await b.route(reset, true);
    assert.deepEqual(b.answers, [{ reason: 'offline' }]);
  });

  it('a fresh command is offline whatever the mark says (a reused UniqueId is a new command)', async () => {
    await marks('fresh', 'a|run1').take('cp', 'c1', false);
    const b = node('fresh', undefined);
    await b.route(reset, false);
    assert.deepEqual(b.answers, [{ reason: 'offline' }]);
  });

  it('a redelivered CALLRESULT has no mark: offline', async () => {
    const b = node('result', undefined);
    await b.route({ type: 3, uniqueId: 'r1', payload: {} }, true);
    assert.deepEqual(b.answers, [{ reason: 'offline' }]);
  });
});
