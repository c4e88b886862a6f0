import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, TEST_ENV, watchGateway, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { configProblems } from './harness/config-problems.js';
import { freePort } from './harness/ports.js';
import { makeTlsFiles, type TlsFiles } from './harness/tls-certs.js';

/**
 * Issue 10 item 8, the gateway's own broker connection: mqtts:// to a real mosquitto that trusts
 * only a private CA, demands a client certificate signed by it and a password, with the CA, the
 * node's certificate and key, and the password all read from files (Kubernetes Secrets mounted
 * as files). The backend reads on a plain loopback listener of the same broker, with the password.
 */
describe('mqtts to a broker with a private CA, client certificate and password file', () => {
  let files: TlsFiles;
  let broker: Mosquitto;
  let tlsPort: number;
  let backend: MqttObserver;
  let env: Record<string, string>;
  let gw: GatewayProcess | undefined;

  before(async () => {
    files = makeTlsFiles();
    const at = (name: string): string => join(files.dir, name);
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
    openssl(
      ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=ocpp-gw-node'],
      ...['-keyout', at('node.key'), '-out', at('node.csr')],
    );
    openssl(
      ...['x509', '-req', '-in', at('node.csr'), '-CA', files.caCert, '-CAkey', at('ca.key')],
      ...['-CAcreateserial', '-days', '2', '-out', at('node.crt')],
    );
    writeFileSync(at('mqtt-password'), 'broker-secret-123\n');
    execFileSync('mosquitto_passwd', ['-b', '-c', at('passwd'), 'gateway', 'broker-secret-123']);
    // mosquitto started as root drops to its own user, which must read the CA, its pair and passwd.
    chmodSync(files.dir, 0o755);
    for (const name of ['ca.crt', 'server.crt', 'server.key', 'passwd']) chmodSync(at(name), 0o644);
    tlsPort = await freePort();
    broker = await Mosquitto.start([
      `listener ${tlsPort} 127.0.0.1`,
      // Global (no per_listener_settings): the plain listener's backend logs in too.
      'allow_anonymous false',
      `password_file ${at('passwd')}`,
      `cafile ${files.caCert}`,
      `certfile ${files.serverCert}`,
      `keyfile ${files.serverKey}`,
      'require_certificate true',
      'tls_version tlsv1.2',
    ]);
    backend = await MqttObserver.connect(broker.url, ['ocpp/#'], {
      username: 'gateway',
      password: 'broker-secret-123',
    });
    env = {
      OCPP_GW_MQTT_URL: `mqtts://127.0.0.1:${tlsPort}`,
      OCPP_GW_MQTT_USERNAME: 'gateway',
      OCPP_GW_MQTT_PASSWORD_FILE: at('mqtt-password'),
      OCPP_GW_MQTT_CA_FILE: files.caCert,
      OCPP_GW_MQTT_CERT_FILE: at('node.crt'),
      OCPP_GW_MQTT_KEY_FILE: at('node.key'),
    };
  });
  after(async () => {
    await gw?.stop();
    await backend.end();
    await broker.stop();
  });

  it('bridges a station both ways over the mutually authenticated link', async () => {
    gw = await spawnGateway(env);
    const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/tls-broker-1`, ['ocpp1.6']);
    try {
      cp.send([2, 'b1', 'Heartbeat', {}]);
      await backend.waitFor('ocpp/cp/tls-broker-1', (m: { UniqueId?: string }) => m.UniqueId === 'b1', 5000);
      await backend.publish('ocpp/cs/tls-broker-1', {
        MessageTypeId: 2,
        UniqueId: 'c1',
        Action: 'Reset',
        Payload: { type: 'Soft' },
      });
      const command = (await cp.next()) as unknown[];
      assert.deepEqual(command.slice(0, 3), [2, 'c1', 'Reset']);
    } finally {
      cp.ws.terminate();
    }
  });

  it('without its client certificate the node never becomes ready, and says why', async () => {
    const { OCPP_GW_MQTT_CERT_FILE: _cert, OCPP_GW_MQTT_KEY_FILE: _key, ...noCert } = env;
    const out = await watchGateway(
      noCert,
      15_000,
      /mqtt (connect failed|broker not reachable); retrying[^\n]*\n/,
    );
    assert.ok(!out.includes('"gateway ready"'), 'not ready without a client certificate');
    assert.match(
      out,
      /mqtt (connect failed|broker not reachable); retrying/,
      'the log says the broker link failed',
    );
  });

  it('names the variable of a bad secret file, a lone key, or a CA on a plain URL', () => {
    const problems = (extra: Record<string, string>): string[] => configProblems({ ...TEST_ENV, ...extra });
    assert.deepEqual(problems({ ...env, OCPP_GW_MQTT_PASSWORD_FILE: join(files.dir, 'missing') }), [
      'OCPP_GW_MQTT_PASSWORD_FILE',
    ]);
    assert.deepEqual(problems({ ...env, OCPP_GW_MQTT_PASSWORD: 'inline-too' }), [
      'OCPP_GW_MQTT_PASSWORD_FILE',
    ]);
    assert.deepEqual(problems({ ...env, OCPP_GW_MQTT_CERT_FILE: '' }), ['OCPP_GW_MQTT_CERT_FILE']);
    assert.deepEqual(problems({ ...env, OCPP_GW_MQTT_URL: 'mqtt://127.0.0.1:1883' }), [
      'OCPP_GW_MQTT_CA_FILE',
    ]);
    assert.deepEqual(problems({ ...env, OCPP_GW_MQTT_CA_FILE: files.dir + '/mqtt-password' }), [
      'OCPP_GW_MQTT_CA_FILE',
    ]);
    assert.equal(loadConfig({ ...TEST_ENV, ...env }).mqtt.password, 'broker-secret-123');
  });
});
