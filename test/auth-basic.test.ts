import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attempt, basic, credentials, series } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

const KEY_HEX = '00112233445566778899aabbccddeeff01020304'; // a 20-byte 1.6 AuthorizationKey

/**
 * Issue 10 items 1 and 2: security profile 1 (HTTP Basic auth) against a gateway process with
 * a credential file written by the CLI; every refusal is a 401 naming Basic, counted by reason,
 * and publishes nothing.
 */
describe('profile 1: HTTP Basic auth with the file store (gateway process)', () => {
  let dir: string;
  let env: Record<string, string>;
  let gw: GatewayProcess;
  let backend: MqttObserver;
  let password: string;
  let url: (cid: string) => string;
  const metrics = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${gw.ports.httpPort}/metrics`)).text();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-basic-'));
    env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json') };
    const made = await credentials(['set', 'CP1', '--generate'], env);
    assert.equal(made.code, 0, made.stderr);
    password = String(made.json?.password);
    assert.equal(password.length, 32);
    const keyed = await credentials(['set', 'CP-KEY', '--password-stdin'], env, `${KEY_HEX}\n`);
    assert.equal(keyed.code, 0, keyed.stderr);
    gw = await spawnGateway({ ...env, OCPP_GW_AUTH_MODE: 'basic', OCPP_GW_AUTH_MAX_FAILURES_PER_ID: '100' });
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${String(gw.ports.mqttPort)}`, ['ocpp/#'], {
      protocolVersion: 4,
    });
    url = (cid) => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;
  });
  after(async () => {
    await backend.end();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusals: [string, string, Record<string, string>, string][] = [
    ['a wrong password', 'CP1', { authorization: '' }, 'bad_password'],
    ['a user that is not the charge point of the URL', 'CP1', {}, 'bad_user'],
    ['an unknown station', 'CP-NOBODY', {}, 'unknown_station'],
    ['no Authorization header', 'CP1', {}, 'missing'],
    ['another scheme', 'CP1', { authorization: 'Bearer abc' }, 'missing'],
  ];

  it('refuses each bad attempt with 401, WWW-Authenticate: Basic realm="ocpp" and the reason', async () => {
    const headers: Record<string, Record<string, string>> = {
      bad_password: { authorization: basic('CP1', 'not-the-password-at-all') },
      bad_user: { authorization: basic('CP-KEY', password) },
      unknown_station: { authorization: basic('CP-NOBODY', password) },
    };
    for (const [what, cid, extra, reason] of refusals) {
      const answer = await attempt(url(cid), { ...extra, ...(headers[reason] ?? {}) });
      assert.deepEqual(
        [answer.status, answer.body, answer.wwwAuthenticate],
        [401, reason, 'Basic realm="ocpp"'],
        what,
      );
    }
    const text = await metrics();
    for (const reason of ['bad_password', 'bad_user', 'unknown_station']) {
      assert.equal(series(text, `ocpp_gateway_auth_failures_total{reason="${reason}"}`), 1, reason);
    }
    assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="missing"}'), 2);
    assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="downgrade"}'), 0);
    await sleep(300);
    assert.deepEqual(
      backend.seen.map((m) => m.topic),
      [],
      'nothing published for a refused upgrade',
    );
  });

  it('accepts the right password, and the station is bridged', async () => {
    const answer = await attempt(url('CP1'), { authorization: basic('CP1', password) });
    assert.equal(answer.status, 101);
    answer.ws?.send(
      JSON.stringify([2, 'b1', 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]),
    );
    await backend.waitFor('ocpp/cp/CP1');
    answer.ws?.terminate();
  });

  it('accepts a 1.6 AuthorizationKey sent as raw bytes, as lower-case hex and as upper-case hex', async () => {
    for (const form of [Buffer.from(KEY_HEX, 'hex'), KEY_HEX, KEY_HEX.toUpperCase()]) {
      const answer = await attempt(url('CP-KEY'), { authorization: basic('CP-KEY', form) });
      assert.equal(answer.status, 101, String(form));
      answer.ws?.terminate();
    }
    const wrong = Buffer.from(KEY_HEX, 'hex');
    wrong[0] = 0xff;
    const answer = await attempt(url('CP-KEY'), { authorization: basic('CP-KEY', wrong) });
    assert.deepEqual([answer.status, answer.body], [401, 'bad_password']);
  });

  it('reloads the file: a station added and a password changed by the CLI take effect', async () => {
    const added = await credentials(['set', 'CP-NEW', '--generate'], env);
    assert.equal(added.code, 0, added.stderr);
    const changed = await credentials(['set', 'CP1', '--generate'], env);
    const newPassword = String(changed.json?.password);
    let status = 0;
    for (let i = 0; i < 50 && status !== 101; i++) {
      await sleep(100);
      const answer = await attempt(url('CP-NEW'), {
        authorization: basic('CP-NEW', String(added.json?.password)),
      });
      status = answer.status;
      answer.ws?.terminate();
    }
    assert.equal(status, 101, 'the added station is accepted after the reload');
    const old = await attempt(url('CP1'), { authorization: basic('CP1', password) });
    assert.deepEqual([old.status, old.body], [401, 'bad_password'], 'the replaced password is refused');
    const now = await attempt(url('CP1'), { authorization: basic('CP1', newPassword) });
    assert.equal(now.status, 101);
    now.ws?.terminate();
  });

  it('show never prints a secret; delete removes the station', async () => {
    const shown = await credentials(['show', 'CP1'], env);
    assert.equal(shown.code, 0);
    assert.equal(shown.json?.profile, 1);
    assert.equal(JSON.stringify(shown.json).includes('hash'), false);
    assert.equal(JSON.stringify(shown.json).includes('salt'), false);
    const deleted = await credentials(['delete', 'CP-NEW'], env);
    assert.deepEqual([deleted.code, deleted.json?.deleted], [0, true]);
    assert.equal((await credentials(['show', 'CP-NEW'], env)).code, 1);
    const short = await credentials(['set', 'CP-SHORT', '--password-stdin'], env, 'short');
    assert.equal(short.code, 2, 'a password under 16 bytes is refused');
  });
});

describe('auth back-off and the none default (gateway processes)', () => {
  it('answers 429 rate_limited after too many failures for one id, even with the right password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-backoff-'));
    const env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json') };
    const made = await credentials(['set', 'CP-B', '--generate'], env);
    const good = String(made.json?.password);
    const other = await credentials(['set', 'CP-OTHER', '--generate'], env);
    const gw = await spawnGateway({
      ...env,
      OCPP_GW_AUTH_MODE: 'basic',
      OCPP_GW_AUTH_MAX_FAILURES_PER_ID: '3',
      OCPP_GW_AUTH_MAX_FAILURES_PER_ADDRESS: '1000',
    });
    try {
      const url = (cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;
      for (let i = 0; i < 3; i++) {
        const answer = await attempt(url('CP-B'), { authorization: basic('CP-B', 'wrong-password-0123456') });
        assert.equal(answer.status, 401);
      }
      const limited = await attempt(url('CP-B'), { authorization: basic('CP-B', good) });
      assert.deepEqual([limited.status, limited.body], [429, 'rate_limited']);
      const unaffected = await attempt(url('CP-OTHER'), {
        authorization: basic('CP-OTHER', String(other.json?.password)),
      });
      assert.equal(unaffected.status, 101, 'another station is not held back');
      unaffected.ws?.terminate();
      const text = await (await fetch(`http://127.0.0.1:${gw.ports.httpPort}/metrics`)).text();
      assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="rate_limited"}'), 1);
    } finally {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 429 after too many failures from one address across ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-backoff-'));
    const env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json') };
    const gw = await spawnGateway({
      ...env,
      OCPP_GW_AUTH_MODE: 'basic',
      OCPP_GW_AUTH_MAX_FAILURES_PER_ADDRESS: '4',
    });
    try {
      const url = (cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await attempt(url(`SCAN-${i}`), {})).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429]);
    } finally {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns at start, naming OCPP_GW_AUTH_MODE, when authentication is off', async () => {
    const gw = await spawnGateway({});
    try {
      const warning = gw
        .stdout()
        .split('\n')
        .find((line) => line.includes('"variable":"OCPP_GW_AUTH_MODE"'));
      assert.ok(warning !== undefined, 'a start-up warning names the variable');
      assert.equal((JSON.parse(warning) as { level: number }).level, 40);
    } finally {
      await gw.stop();
    }
  });
});
