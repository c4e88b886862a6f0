import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setup, type Fixture } from './harness/fixture.js';

const TOKEN = 'test-admin-token-0123456789';

describe('admin API (list, inspect, kick)', () => {
  let fx: Fixture;
  let closed: Fixture;
  before(async () => {
    fx = await setup('embedded', { OCPP_GW_ADMIN_TOKEN: TOKEN });
    closed = await setup('embedded');
  });
  after(async () => {
    await fx.teardown();
    await closed.teardown();
  });
  const auth = { Authorization: `Bearer ${TOKEN}` };

  it('is off without OCPP_GW_ADMIN_TOKEN', async () => {
    assert.equal((await fetch(`${closed.httpBase}/api/v1/clients`)).status, 404);
  });

  it('needs the bearer token', async () => {
    const res = await fetch(`${fx.httpBase}/api/v1/clients`, { headers: { Authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  it('lists and describes connected charge points', async () => {
    await fx.connect('adm 1');
    const list = (await (await fetch(`${fx.httpBase}/api/v1/clients`, { headers: auth })).json()) as {
      data: Array<{ clientid: string }>;
    };
    assert.deepEqual(
      list.data.map((c) => c.clientid),
      ['adm 1'],
    );
    const one = (await (
      await fetch(`${fx.httpBase}/api/v1/clients/adm%201`, { headers: auth })
    ).json()) as Record<string, unknown>;
    assert.equal(one.proto_ver, '1.6');
    assert.equal(one.state, 'open');
    assert.equal((await fetch(`${fx.httpBase}/api/v1/clients/nobody`, { headers: auth })).status, 404);
  });

  it('kicks with close 1000 and a disconnect event', async () => {
    const cp = await fx.connect('adm2');
    const res = await fetch(`${fx.httpBase}/api/v1/clients/adm2`, { method: 'DELETE', headers: auth });
    assert.equal(res.status, 204);
    assert.deepEqual(await cp.waitClose(), { code: 1000, reason: 'kicked' });
    const off = await fx.backend.waitFor('ocpp/events/adm2/disconnected');
    assert.equal((off.json as { reason: string }).reason, 'kicked');
  });
});
