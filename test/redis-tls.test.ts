import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { answerCalls, command, CLUSTER_TEST_ENV } from './harness/cluster.js';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, watchGateway, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { freePort } from './harness/ports.js';
import { RedisServer } from './harness/redis.js';
import { makeTlsFiles, type TlsFiles } from './harness/tls-certs.js';
import { sleep } from './harness/time.js';

/**
 * `rediss://` (issue 4): the gateway talks TLS to a real redis-server and verifies its
 * certificate: with the private CA trusted (NODE_EXTRA_CA_CERTS, as the Helm chart mounts it)
 * it works end to end; without it, it refuses the server instead of trusting it blindly.
 */
describe('Redis over TLS (rediss://)', () => {
  let tls: TlsFiles;
  let redis: RedisServer;
  let tlsPort: number;
  let mosquitto: Mosquitto;
  let backend: MqttObserver;
  let node: GatewayProcess | undefined;
  let cp: ChargePoint | undefined;
  before(async () => {
    tls = makeTlsFiles();
    tlsPort = await freePort();
    redis = await RedisServer.start([
      ...['--tls-port', String(tlsPort), '--tls-auth-clients', 'no'],
      ...[
        '--tls-cert-file',
        tls.serverCert,
        '--tls-key-file',
        tls.serverKey,
        '--tls-ca-cert-file',
        tls.caCert,
      ],
    ]);
    mosquitto = await Mosquitto.start();
    backend = await MqttObserver.connect(mosquitto.url, ['ocpp/cp/+/Reply']);
  });
  after(async () => {
    cp?.ws.terminate();
    await backend.end();
    await node?.stop('SIGKILL');
    await mosquitto.stop();
    await redis.stop();
    rmSync(tls.dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    ...CLUSTER_TEST_ENV,
    OCPP_GW_MQTT_URL: mosquitto.url,
    OCPP_GW_REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
  });

  it('connects with the CA trusted, writes the registry and delivers', async () => {
    node = await spawnGateway({ ...env(), OCPP_GW_NODE_ID: 'tls-node', NODE_EXTRA_CA_CERTS: tls.caCert });
    cp = await ChargePoint.connect(`ws://127.0.0.1:${node.ports.wsPort}/ocpp/tls-cp`);
    answerCalls(cp);
    const plain = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      for (let i = 0; i < 50 && (await plain.exists('ocpp-gw:owner:tls-cp')) === 0; i++) await sleep(50);
      assert.match((await plain.get('ocpp-gw:owner:tls-cp')) ?? '', /^tls-node\|/);
    } finally {
      plain.disconnect();
    }
    await backend.publish('ocpp/cs/tls-cp', command('tls-1'));
    const reply = await backend.waitFor(
      'ocpp/cp/tls-cp/Reply',
      (j: { UniqueId: string }) => j.UniqueId === 'tls-1',
    );
    assert.equal((reply.json as { MessageTypeId: number }).MessageTypeId, 3);
  });

  it('refuses a server whose certificate it cannot verify', async () => {
    const out = await watchGateway(
      { ...env(), OCPP_GW_NODE_ID: 'tls-untrusted' },
      15_000,
      /redis not reachable; retrying[^\n]*\n/,
    );
    assert.ok(!out.includes('"gateway ready"'), 'not ready with an unverifiable Redis');
    const why = out.split('\n').find((line) => line.includes('redis not reachable; retrying'));
    assert.match(why ?? '', /certificate/i, 'the log line names the certificate problem');
  });
});
