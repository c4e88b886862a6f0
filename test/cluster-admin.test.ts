import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture } from './harness/cluster.js';
import { ownerEntries, waitForOwner } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

const TOKEN = 'cluster-admin-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** The admin API of any node answers for charge points connected to the others. */
describe('cluster admin API (3 nodes, standalone Redis)', () => {
  let f: ClusterFixture;
  before(async () => {
    f = await ClusterFixture.start('standalone', 3, { OCPP_GW_ADMIN_TOKEN: TOKEN });
  });
  after(async () => f.teardown());

  const api = (node: number, cid: string): string =>
    `http://127.0.0.1:${f.node(node).ports.httpPort}/api/v1/clients/${encodeURIComponent(cid)}`;

  it('describes a charge point on another node by its owner', async () => {
    await f.responder(2, 'adm-remote');
    await waitForOwner(f, 'adm-remote', 2, 5000);
    const remote = await fetch(api(0, 'adm-remote'), { headers: auth });
    assert.equal(remote.status, 200);
    assert.deepEqual(await remote.json(), { clientid: 'adm-remote', node: 'node-2', local: false });
    const local = (await (await fetch(api(2, 'adm-remote'), { headers: auth })).json()) as {
      node: string;
      local: boolean;
    };
    assert.equal(local.node, 'node-2');
    assert.equal(local.local, true);
    assert.equal((await fetch(api(0, 'adm-nobody'), { headers: auth })).status, 404);
  });

  it('kicks a charge point on another node: 202, closed 1000 "kicked" by its owner', async () => {
    const cp = await f.responder(1, 'adm-kick');
    await waitForOwner(f, 'adm-kick', 1, 5000);
    const res = await fetch(api(0, 'adm-kick'), { method: 'DELETE', headers: auth });
    assert.equal(res.status, 202);
    assert.deepEqual(await cp.waitClose(5000), { code: 1000, reason: 'kicked' });
    await eventually(
      async () => !(await ownerEntries(f)).has('adm-kick'),
      5000,
      'owner entry released after the kick',
    );
    assert.equal((await fetch(api(0, 'adm-kick'), { method: 'DELETE', headers: auth })).status, 404);
  });
});
