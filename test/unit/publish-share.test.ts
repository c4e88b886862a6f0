import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { PublishShare, takeShare } from '../../src/edge/publish-share.js';

async function reading(registry: Registry, name: string, labels = ''): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return Number(line?.split(' ')[1]);
}

function setUp(limit: number): { share: PublishShare; registry: Registry } {
  const registry = new Registry();
  const refused = new Counter({ name: 'refused', help: 'h', labelNames: ['limit'], registers: [registry] });
  return { share: new PublishShare(limit, refused, registry), registry };
}

describe('PublishShare', () => {
  it('refuses past the limit, counts it, and admits again once a place is given back', async () => {
    const { share, registry } = setUp(2);
    const holder = { pendingPublishes: 0 };
    const first = share.take(holder);
    const second = share.take(holder);
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(await reading(registry, 'ocpp_gateway_sockets_over_publish_share'), 1);
    assert.equal(share.take(holder), undefined);
    assert.equal(await reading(registry, 'refused', '{limit="publish_share"}'), 1);
    first();
    first(); // a second call gives nothing back twice
    assert.equal(holder.pendingPublishes, 1);
    assert.equal(await reading(registry, 'ocpp_gateway_sockets_over_publish_share'), 0);
    assert.ok(share.take(holder) !== undefined);
  });

  it('lets a forced publish past the share and keeps the gauge right on the way down', async () => {
    const { share, registry } = setUp(1);
    const holder = { pendingPublishes: 0 };
    const a = share.take(holder);
    const forced = share.take(holder, true);
    assert.ok(a !== undefined && forced !== undefined);
    assert.equal(holder.pendingPublishes, 2);
    assert.equal(await reading(registry, 'ocpp_gateway_sockets_over_publish_share'), 1);
    forced();
    assert.equal(await reading(registry, 'ocpp_gateway_sockets_over_publish_share'), 1);
    a();
    assert.equal(await reading(registry, 'ocpp_gateway_sockets_over_publish_share'), 0);
  });

  it('is unbounded for a session made without one', () => {
    const holder = { pendingPublishes: 0, share: undefined };
    for (let i = 0; i < 1000; i += 1) assert.ok(takeShare(holder, false) !== undefined);
    assert.equal(holder.pendingPublishes, 0);
  });
});
