import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PendingForwards } from '../../src/cluster/pending-forwards.js';
import type { Forwarded } from '../../src/cluster/router-types.js';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { FakeClock } from '../harness/fake-clock.js';

function forward(nodeId: string): Forwarded {
  return {
    cid: 'CP1',
    message: {} as Forwarded['message'],
    delivery: {} as Forwarded['delivery'],
    owner: { nodeId, epoch: 'r.1~ocpp1.6' },
    retried: false,
    seq: 1,
    startedAt: 0,
    timer: undefined,
  };
}

async function scraped(registry: Registry): Promise<string> {
  return (await registry.getSingleMetricAsString('ocpp_gateway_route_pending')).split('\n').at(-1) ?? '';
}

describe('PendingForwards', () => {
  it('ocpp_gateway_route_pending reports the forwards waiting when scraped', async () => {
    const registry = new Registry();
    const pending = new PendingForwards(new FakeClock(), new ClusterMetrics(registry));
    assert.equal(await scraped(registry), 'ocpp_gateway_route_pending 0');
    const first = pending.add(forward('b'), 1000, () => undefined);
    pending.add(forward('c'), 1000, () => undefined);
    assert.equal(await scraped(registry), 'ocpp_gateway_route_pending 2');
    assert.ok(pending.take(first) !== undefined);
    assert.equal(await scraped(registry), 'ocpp_gateway_route_pending 1');
  });

  it('runs a deadline unless the forward was taken', () => {
    const clock = new FakeClock();
    const pending = new PendingForwards(clock, undefined);
    const expired: number[] = [];
    const a = pending.add(forward('b'), 1000, (ref) => expired.push(ref));
    const b = pending.add(forward('b'), 1000, (ref) => expired.push(ref));
    pending.take(a);
    clock.advance(1000);
    assert.deepEqual(expired, [b]);
    assert.deepEqual(
      pending.heldBy('b').map(([ref]) => ref),
      [b],
    );
  });
});
