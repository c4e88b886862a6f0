import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attempt, basic, credentials } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { makeTlsFiles, type TlsFiles } from './harness/tls-certs.js';
import { sleep } from './harness/time.js';

/**
 * Security profile 2 on the gateway's own TLS listener (no proxy in front): OCPP 1.6 Security
 * Whitepaper §2.3 / OCPP 2.0.1 A00.FR.301. The same node serves ws and wss; a station recorded at
 * profile 2 gets in over wss with its Basic credentials, and is refused on ws (downgrade, A00.FR.302
 * style), both without any X-Forwarded-Proto header.
 */
describe('profile 2 over the wss listener (gateway process, file store)', () => {
  let dir: string;
  let files: TlsFiles;
  let ca: Buffer;
  let gw: GatewayProcess;
  let backend: MqttObserver;
  let password = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-wss-'));
    files = makeTlsFiles();
    ca = readFileSync(files.caCert);
    const env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json'), OCPP_GW_AUTH_MODE: 'basic' };
    const made = await credentials(['set', 'CP-W2', '--generate', '--profile', '2'], env);
    assert.equal(made.code, 0, made.stderr);
    password = String(made.json?.password);
    gw = await spawnGateway({
      ...env,
      OCPP_GW_TLS_CERT_FILE: files.serverCert,
      OCPP_GW_TLS_KEY_FILE: files.serverKey,
      OCPP_GW_TLS_PORT: '0',
    });
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${String(gw.ports.mqttPort)}`, ['ocpp/#'], {
      protocolVersion: 4,
    });
  });
  after(async () => {
    await backend.end();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const wss = (): string => `wss://127.0.0.1:${String(gw.ports.tlsPort)}/ocpp/CP-W2`;

  it('admits the station over wss with its password and bridges its CALLs', async () => {
    const answer = await attempt(wss(), { authorization: basic('CP-W2', password) }, ['ocpp1.6'], { ca });
    assert.equal(answer.status, 101);
    try {
      answer.ws?.send(JSON.stringify([2, 'w1', 'Heartbeat', {}]));
      const published = await backend.waitFor(
        'ocpp/cp/CP-W2',
        (m: { UniqueId?: string }) => m.UniqueId === 'w1',
      );
      assert.equal(published.topic, 'ocpp/cp/CP-W2');
    } finally {
      answer.ws?.terminate();
    }
  });

  it('refuses the same credentials on plain ws with 401 downgrade and publishes nothing', async () => {
    const published = (): number =>
      backend.seen.filter((m) => m.topic === 'ocpp/cp/CP-W2' || m.topic === 'ocpp/events/CP-W2/connected')
        .length;
    const before = published();
    const url = `ws://127.0.0.1:${String(gw.ports.wsPort)}/ocpp/CP-W2`;
    const answer = await attempt(url, { authorization: basic('CP-W2', password) });
    assert.deepEqual([answer.status, answer.body], [401, 'downgrade']);
    await sleep(300);
    assert.equal(published(), before, 'no CALL and no connected event');
  });

  it('refuses a wrong password over wss with 401 bad_password', async () => {
    const answer = await attempt(
      wss(),
      { authorization: basic('CP-W2', 'not-the-password-1234') },
      ['ocpp1.6'],
      {
        ca,
      },
    );
    assert.deepEqual([answer.status, answer.body], [401, 'bad_password']);
  });
});
