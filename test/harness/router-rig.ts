import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { UpstreamPublisher } from '../../src/bridge/upstream-publisher.js';
import { CommandRouter, type RouterCluster } from '../../src/cluster/command-router.js';
import { OwnerCache } from '../../src/cluster/owner-cache.js';
import { OwnerDelivery } from '../../src/cluster/owner-delivery.js';
import type { AbsentOwnerPolicy } from '../../src/cluster/router-types.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import type { Owner } from '../../src/cluster/registry.js';
import { RouteBus } from '../../src/cluster/route-bus.js';
import { decodeEnvelope } from '../../src/cluster/route-envelope.js';
import type { Session } from '../../src/edge/session/session.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createLogger } from '../../src/observability/logger.js';
import type { DownstreamMessage } from '../../src/ocpp/message.js';
import { FakeClock } from './fake-clock.js';

/** A registry lookup the test answers when it wants: a slow Redis, a Cluster redirect re-sent. */
interface HeldLookup {
  readonly cid: string;
  answer(owner: Owner | undefined): void;
}

/**
 * A router on node `a` whose charge points live on node `b`. Registry lookups and the route-bus
 * PUBLISH are the only stand-ins: with `holdLookups`, each lookup waits until the test answers
 * it, in any order; otherwise it answers at once. Everything that leaves the node is recorded in
 * one list, in the order it left: `b:<id>` published to b, `local:<id>` written here, `<reason>:<id>`
 * answered by the router itself.
 */
export function rig(
  options: {
    receivers?: () => number;
    limits?: { maxPerCp: number; maxTotal: number };
    absentOwner?: AbsentOwnerPolicy;
  } = {},
) {
  const clock = new FakeClock();
  const left: string[] = [];
  const held: HeldLookup[] = [];
  let holdLookups = false;
  const owner: Owner = { nodeId: 'b', epoch: 'e' };
  let current: Owner | undefined = owner; // what the registry answers; moveTo changes it
  const publisher = {
    undelivered: (
      _cid: string,
      _type: number,
      id: string,
      _action: unknown,
      reason: string,
      ack?: () => void,
    ) => {
      left.push(`${reason}:${id}`);
      ack?.();
    },
  } as unknown as UpstreamPublisher;
  const redis = {
    publish: (channel: string, payload: Buffer) => {
      const decoded = decodeEnvelope(payload);
      assert.ok(decoded.ok && decoded.envelope.k === 'deliver');
      left.push(`${channel.split(':').pop() ?? ''}:${decoded.envelope.msg.uniqueId}`);
      return Promise.resolve(options.receivers?.() ?? 1);
    },
  } as unknown as RedisLink;
  const registry = new Registry();
  const metrics = new ClusterMetrics(registry);
  const log = createLogger({ logLevel: 'silent', nodeId: 'a' });
  const cache = new OwnerCache(60_000, 100, () => clock.now());
  const cluster: RouterCluster = {
    registry: {
      lookup: (cid: string) =>
        holdLookups
          ? new Promise<Owner | undefined>((resolve) => held.push({ cid, answer: resolve }))
          : Promise.resolve(current),
    } as unknown as RouterCluster['registry'],
    cache,
    bus: new RouteBus(redis, 'test', 'a', metrics, log),
    routeTimeoutMs: 5000,
    metrics,
    absentOwner: options.absentOwner,
  };
  const sessions = new Map<string, Session>();
  const r = new CommandRouter({
    nodeId: 'a',
    local: { lookup: (cid) => sessions.get(cid) },
    owner: new OwnerDelivery(publisher, undefined, metrics),
    publisher,
    cluster,
    log,
    clock,
    order: options.limits,
  });
  /** A session on this node: a write is recorded as leaving locally. */
  const connectHere = (cid: string): void => {
    const session = { cid, deliver: (m: DownstreamMessage) => void left.push(`local:${m.uniqueId}`) };
    sessions.set(cid, session as unknown as Session);
  };
  const send = (cid: string, id: string): void =>
    r.route(cid, call(id), { ack: () => undefined, redelivered: false });
  return {
    r,
    clock,
    left,
    held,
    owner,
    cache,
    registry,
    send,
    connectHere,
    hold: (on: boolean) => void (holdLookups = on),
    /** The charge point now lives at `to` (another node, or a new session; none): the registry says so. */
    moveTo: (to: Owner | undefined) => void (current = to),
  };
}

export const call = (id: string): DownstreamMessage => ({
  type: 2,
  uniqueId: id,
  action: 'Reset',
  payload: { type: 'Soft' },
});
/** Promise callbacks (lookups answered, PUBLISH resolved) run before a macrotask does. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A series' value from the node's registry (the label value, if any, names the series). */
export async function metric(registry: Registry, name: string, label?: string): Promise<number> {
  const found = await registry.getSingleMetric(name)?.get();
  const series = found?.values.find((v) => label === undefined || Object.values(v.labels).includes(label));
  return series?.value ?? Number.NaN;
}
