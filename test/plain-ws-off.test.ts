import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { configProblems } from './harness/config-problems.js';
import { runGateway, spawnGateway, TEST_ENV, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { canConnect, freePort } from './harness/ports.js';
import { makeTlsFiles, type TlsFiles } from './harness/tls-certs.js';

/**
 * Turning plain ws off (issue 10 item 3): with OCPP_GW_PLAIN_WS=off a node takes stations over
 * wss only; off without the TLS pair is a configuration error naming both.
 */
describe('OCPP_GW_PLAIN_WS=off', () => {
  let files: TlsFiles;
  let gw: GatewayProcess;
  let plainPort: number;
  let backend: MqttObserver;
  before(async () => {
    files = makeTlsFiles();
    plainPort = await freePort();
    gw = await spawnGateway({
      OCPP_GW_PORT: String(plainPort),
      OCPP_GW_PLAIN_WS: 'off',
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
    rmSync(files.dir, { recursive: true, force: true });
  });

  it('does not listen on the plain port and says so at start', async () => {
    assert.equal(await canConnect(plainPort), false, `nothing listens on ${plainPort}`);
    assert.equal(gw.ports.wsPort, 0);
    assert.match(gw.stdout(), /"msg":"plain ws listener off: stations connect over wss only"/);
  });

  it('takes a station over wss and bridges its CALL', async () => {
    const ca = readFileSync(files.caCert);
    const cp = await ChargePoint.connect(
      `wss://127.0.0.1:${String(gw.ports.tlsPort)}/ocpp/CP-TLS`,
      ['ocpp1.6'],
      {},
      { ca },
    );
    cp.send([2, 'h1', 'Heartbeat', {}]);
    await backend.waitFor('ocpp/cp/CP-TLS', (m: { UniqueId?: string }) => m.UniqueId === 'h1', 5_000);
    await cp.close();
  });

  it('is a configuration error without the TLS pair, naming both variables', async () => {
    assert.deepEqual(configProblems({ OCPP_GW_PLAIN_WS: 'off' }), ['OCPP_GW_PLAIN_WS']);
    assert.deepEqual(configProblems({ OCPP_GW_PLAIN_WS: 'no' }), ['OCPP_GW_PLAIN_WS']);
    assert.deepEqual(
      configProblems({
        OCPP_GW_PLAIN_WS: 'on',
        OCPP_GW_TLS_CERT_FILE: files.serverCert,
        OCPP_GW_TLS_KEY_FILE: files.serverKey,
      }),
      [],
    );
    const run = await runGateway({ ...TEST_ENV, OCPP_GW_PLAIN_WS: 'off' });
    assert.notEqual(run.code, 0);
    const output = run.stdout + run.stderr;
    assert.match(output, /OCPP_GW_PLAIN_WS/);
    assert.match(output, /OCPP_GW_TLS_CERT_FILE/);
    assert.match(output, /OCPP_GW_TLS_KEY_FILE/);
  });
});
