import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attempt, basic, credentials } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';

const TOKEN = 'admin-token-0123456789';

/**
 * Issue 10 item 2: the credential operations on the admin API (behind its bearer token), on the
 * same store the CLI writes, taking effect on the next upgrade.
 */
describe('credentials on the admin API (gateway process, file store)', () => {
  let dir: string;
  let env: Record<string, string>;
  let gw: GatewayProcess;
  const api = (cid: string, init: RequestInit = {}, token = TOKEN): Promise<Response> =>
    fetch(`http://127.0.0.1:${gw.ports.httpPort}/api/v1/credentials/${cid}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  const url = (cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-admin-'));
    env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json') };
    gw = await spawnGateway({ ...env, OCPP_GW_AUTH_MODE: 'basic', OCPP_GW_ADMIN_TOKEN: TOKEN });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses without the token', async () => {
    assert.equal((await api('CP-A', {}, 'wrong-token-0123456789')).status, 401);
  });

  it('PUT generates a password shown once; the station connects with it; GET shows no secret', async () => {
    const put = await api('CP-A', { method: 'PUT', body: JSON.stringify({ generate: true, profile: 1 }) });
    assert.equal(put.status, 200);
    const made = (await put.json()) as { password: string; profile: number };
    assert.equal(made.profile, 1);
    const answer = await attempt(url('CP-A'), { authorization: basic('CP-A', made.password) });
    assert.equal(answer.status, 101);
    answer.ws?.terminate();
    const got = await api('CP-A');
    assert.equal(got.status, 200);
    const text = await got.text();
    assert.equal(text.includes('password') || text.includes('hash') || text.includes('salt'), false, text);
    assert.equal((await credentials(['show', 'CP-A'], env)).json?.profile, 1, 'the CLI sees the same record');
  });

  it('PUT with a password replaces the secret at once; bad bodies get 400', async () => {
    const put = await api('CP-A', {
      method: 'PUT',
      body: JSON.stringify({ password: 'an-operator-chosen-pw' }),
    });
    assert.equal(put.status, 200);
    const answer = await attempt(url('CP-A'), { authorization: basic('CP-A', 'an-operator-chosen-pw') });
    assert.equal(answer.status, 101);
    answer.ws?.terminate();
    for (const body of ['{', '{}', '{"password":"short"}', '{"generate":true,"profile":7}']) {
      assert.equal((await api('CP-A', { method: 'PUT', body })).status, 400, body);
    }
  });

  it('DELETE removes the station: its next upgrade is unknown_station', async () => {
    assert.equal((await api('CP-A', { method: 'DELETE' })).status, 204);
    assert.equal((await api('CP-A', { method: 'DELETE' })).status, 404);
    assert.equal((await api('CP-A')).status, 404);
    const answer = await attempt(url('CP-A'), { authorization: basic('CP-A', 'an-operator-chosen-pw') });
    assert.deepEqual([answer.status, answer.body], [401, 'unknown_station']);
  });
});
