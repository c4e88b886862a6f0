import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { loadConfig } from '../src/config/index.js';
import { configProblems } from './harness/config-problems.js';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, startGateway, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

const USER = 'backend';
const PASSWORD = 'a-long-broker-secret';

/** The CONNACK return code a client gets, or 0 when it is let in. */
async function connackCode(url: string, options: { username?: string; password?: string }): Promise<number> {
  try {
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
    await client.endAsync();
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

const problems = configProblems;

/** Whether a TCP connection to host:port is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Raw MQTT 3.1.1: an anonymous CONNECT and, in the same write, a QoS 0 PUBLISH, so the broker
 * holds the PUBLISH before it has decided on the CONNECT. Resolves with the bytes it answers.
 */
function pipelinedForgery(port: number, topic: string): Promise<Buffer> {
  const clientId = Buffer.from('forger');
  const connect = Buffer.concat([
    Buffer.from([0x10, 12 + clientId.length, 0, 4]),
    Buffer.from('MQTT'),
    Buffer.from([4, 0x02, 0, 60, 0, clientId.length]),
    clientId,
  ]);
  const name = Buffer.from(topic);
  const body = Buffer.from('{"MessageTypeId":2,"UniqueId":"x","Action":"Heartbeat","Payload":{}}');
  const publish = Buffer.concat([
    Buffer.from([0x30, 2 + name.length + body.length, 0, name.length]),
    name,
    body,
  ]);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    socket.once('connect', () => socket.write(Buffer.concat([connect, publish])));
    socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    socket.once('close', () => resolve(got));
    socket.once('error', reject);
  });
}

describe('embedded broker access', () => {
  it('listens on loopback by default', () => {
    assert.equal(loadConfig({}).mqtt.embeddedHost, '127.0.0.1');
  });

  it('needs both credentials to listen beyond loopback (config error naming each variable)', () => {
    const open = { OCPP_GW_EMBEDDED_MQTT_HOST: '0.0.0.0' };
    assert.deepEqual(problems(open), ['OCPP_GW_EMBEDDED_MQTT_PASSWORD', 'OCPP_GW_EMBEDDED_MQTT_USERNAME']);
    assert.deepEqual(problems({ ...open, OCPP_GW_EMBEDDED_MQTT_USERNAME: USER }), [
      'OCPP_GW_EMBEDDED_MQTT_PASSWORD',
    ]);
    assert.deepEqual(problems({ ...open, OCPP_GW_EMBEDDED_MQTT_PASSWORD: PASSWORD }), [
      'OCPP_GW_EMBEDDED_MQTT_USERNAME',
    ]);
    assert.deepEqual(
      problems({ ...open, OCPP_GW_EMBEDDED_MQTT_USERNAME: USER, OCPP_GW_EMBEDDED_MQTT_PASSWORD: PASSWORD }),
      [],
    );
    // An external broker has its own access control: the embedded one is not started.
    assert.deepEqual(problems({ ...open, OCPP_GW_MQTT_URL: 'mqtt://broker:1883' }), []);
  });

  describe('a gateway started with the defaults', () => {
    let gw: GatewayProcess;
    before(async () => {
      // An empty value falls back to the default, as if the variable were unset.
      gw = await spawnGateway({ OCPP_GW_EMBEDDED_MQTT_HOST: '' });
    });
    after(async () => {
      await gw.stop('SIGKILL');
    });

    it('binds its broker to loopback only', async () => {
      const port = gw.ports.mqttPort ?? 0;
      assert.ok(await reachable('127.0.0.1', port));
      const outside = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
        .map((a) => a?.address ?? '');
      for (const address of outside) {
        assert.equal(await reachable(address, port), false, `not reachable on ${address}`);
      }
      assert.match(
        gw.stdout(),
        /"host":"127\.0\.0\.1".*"authenticated":false.*embedded MQTT broker listening/,
      );
    });
  });

  describe('opened beyond loopback with credentials', () => {
    let gw: Awaited<ReturnType<typeof startGateway>>;
    let url: string;
    before(async () => {
      gw = await startGateway({
        OCPP_GW_EMBEDDED_MQTT_HOST: '0.0.0.0',
        OCPP_GW_EMBEDDED_MQTT_USERNAME: USER,
        OCPP_GW_EMBEDDED_MQTT_PASSWORD: PASSWORD,
      });
      url = `mqtt://127.0.0.1:${gw.ports.mqttPort ?? 0}`;
    });
    after(async () => {
      await gw.stop();
    });

    it('refuses anonymous and wrong-password clients with CONNACK 4, and they read nothing', async () => {
      assert.equal(await connackCode(url, {}), 4);
      assert.equal(await connackCode(url, { username: USER }), 4);
      assert.equal(await connackCode(url, { username: USER, password: `${PASSWORD}x` }), 4);
      assert.equal(await connackCode(url, { username: 'other', password: PASSWORD }), 4);
    });

    it('lets the right credentials in, and the gateway bridges through its own login', async () => {
      assert.equal(await connackCode(url, { username: USER, password: PASSWORD }), 0);
      const backend = await MqttObserver.connect(url, ['ocpp/#'], {
        protocolVersion: 4,
        username: USER,
        password: PASSWORD,
      });
      const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/open1`);
      try {
        cp.send([2, 'h1', 'Heartbeat', {}]);
        await backend.waitFor('ocpp/cp/open1');
        await backend.publish('ocpp/cs/open1', {
          MessageTypeId: 3,
          UniqueId: 'h1',
          Payload: { currentTime: 'now' },
        });
        assert.deepEqual(await cp.next(), [3, 'h1', { currentTime: 'now' }]);
      } finally {
        cp.ws.terminate();
        await backend.end();
      }
    });

    it('publishes nothing from a client that pipelines a PUBLISH behind an anonymous CONNECT', async () => {
      const backend = await MqttObserver.connect(url, ['ocpp/#'], {
        protocolVersion: 4,
        username: USER,
        password: PASSWORD,
      });
      try {
        const reply = await pipelinedForgery(gw.ports.mqttPort ?? 0, 'ocpp/cp/victim');
        assert.equal(reply.readUInt8(0), 0x20, 'CONNACK');
        assert.equal(reply.readUInt8(3), 4, 'return code 4');
        await sleep(300);
        assert.deepEqual(backend.seen, []);
      } finally {
        await backend.end();
      }
    });
  });
});
