import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attempt, basic, credentials } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

/**
 * Issue 10 item 5, downgrade protection (OCTT TC_073/TC_083 style): a station recorded at
 * profile 2 is refused on plain ws, accepted when a trusted proxy says it terminated TLS, and
 * refused when an untrusted client claims the same; a station recorded at profile 3 is refused
 * with Basic auth alone.
 */
describe('downgrade protection (gateway processes, file store)', () => {
  let dir: string;
  let env: Record<string, string>;
  const passwords: Record<string, string> = {};
  let trusting: GatewayProcess;
  let plain: GatewayProcess;
  let backend: MqttObserver;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-downgrade-'));
    env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json'), OCPP_GW_AUTH_MODE: 'basic' };
    for (const [cid, profile] of [
      ['CP-P1', '1'],
      ['CP-P2', '2'],
      ['CP-P3', '3'],
    ] as const) {
      const made = await credentials(['set', cid, '--generate', '--profile', profile], env);
      assert.equal(made.code, 0, made.stderr);
      passwords[cid] = String(made.json?.password);
    }
    trusting = await spawnGateway({ ...env, OCPP_GW_TRUSTED_PROXIES: '127.0.0.0/8' });
    plain = await spawnGateway(env);
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${String(plain.ports.mqttPort)}`, ['ocpp/#'], {
      protocolVersion: 4,
    });
  });
  after(async () => {
    await backend.end();
    await trusting.stop();
    await plain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (gw: GatewayProcess, cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;
  const auth = (cid: string): Record<string, string> => ({ authorization: basic(cid, passwords[cid] ?? '') });

  it('refuses a profile 2 station on plain ws with 401 downgrade, and publishes nothing', async () => {
    const answer = await attempt(url(plain, 'CP-P2'), auth('CP-P2'));
    assert.deepEqual(
      [answer.status, answer.body, answer.wwwAuthenticate],
      [401, 'downgrade', 'Basic realm="ocpp"'],
    );
    await sleep(300);
    assert.deepEqual(
      backend.seen.map((m) => m.topic),
      [],
    );
  });

  it('ignores X-Forwarded-Proto from an address that is not a trusted proxy', async () => {
    const answer = await attempt(url(plain, 'CP-P2'), { ...auth('CP-P2'), 'x-forwarded-proto': 'https' });
    assert.deepEqual([answer.status, answer.body], [401, 'downgrade']);
  });

  it('accepts a profile 2 station whose TLS a trusted proxy terminated', async () => {
    const answer = await attempt(url(trusting, 'CP-P2'), { ...auth('CP-P2'), 'x-forwarded-proto': 'https' });
    assert.equal(answer.status, 101);
    answer.ws?.terminate();
    const without = await attempt(url(trusting, 'CP-P2'), auth('CP-P2'));
    assert.deepEqual([without.status, without.body], [401, 'downgrade'], 'the proxy did not say https');
  });

  it('refuses a profile 3 station with Basic auth, even over TLS', async () => {
    for (const gw of [plain, trusting]) {
      const answer = await attempt(url(gw, 'CP-P3'), { ...auth('CP-P3'), 'x-forwarded-proto': 'https' });
      assert.deepEqual([answer.status, answer.body], [401, 'downgrade']);
    }
  });

  it('accepts a profile 1 station on plain ws (with its own password only)', async () => {
    const answer = await attempt(url(plain, 'CP-P1'), auth('CP-P1'));
    assert.equal(answer.status, 101);
    answer.ws?.terminate();
    const wrong = await attempt(url(plain, 'CP-P1'), {
      authorization: basic('CP-P1', 'not-its-password-000'),
    });
    assert.deepEqual([wrong.status, wrong.body], [401, 'bad_password']);
  });
});
