import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { answerCalls, command, CLUSTER_TEST_ENV } from './harness/cluster.js';
import { ChargePoint } from './harness/cp-client.js';
import { spawnGateway, watchGateway, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { RedisServer } from './harness/redis.js';
import { sleep } from './harness/time.js';

/**
 * Redis with ACLs (issue 4: "ACL user/password"): the default user may only PING; the gateway's
 * user `gw` may do everything. Credentials in the URL, or in OCPP_GW_REDIS_USERNAME/PASSWORD,
 * which win over the URL's (the password usually comes from a secret).
 */
describe('Redis ACL user and password', () => {
  let redis: RedisServer;
  let mosquitto: Mosquitto;
  let backend: MqttObserver;
  const nodes: GatewayProcess[] = [];
  const cps: ChargePoint[] = [];
  before(async () => {
    redis = await RedisServer.start([
      ...['--user', 'default', 'on', 'nopass', '-@all', '+ping'],
      ...['--user', 'gw', 'on', '>s3cret/=', '~*', '&*', '+@all'],
    ]);
    mosquitto = await Mosquitto.start();
    backend = await MqttObserver.connect(mosquitto.url, ['ocpp/cp/+/Reply']);
  });
  after(async () => {
    for (const cp of cps) cp.ws.terminate();
    await backend.end();
    await Promise.all(nodes.map(async (n) => n.stop('SIGKILL')));
    await mosquitto.stop();
    await redis.stop();
  });

  const base = (): Record<string, string> => ({ ...CLUSTER_TEST_ENV, OCPP_GW_MQTT_URL: mosquitto.url });

  it('connects with the URL credentials and with the variables, which override the URL', async () => {
    nodes.push(
      await spawnGateway({
        ...base(),
        OCPP_GW_NODE_ID: 'acl-url',
        OCPP_GW_REDIS_URL: `redis://gw:${encodeURIComponent('s3cret/=')}@127.0.0.1:${redis.port}`,
      }),
    );
    nodes.push(
      await spawnGateway({
        ...base(),
        OCPP_GW_NODE_ID: 'acl-vars',
        OCPP_GW_REDIS_URL: `redis://nobody:wrong@127.0.0.1:${redis.port}`,
        OCPP_GW_REDIS_USERNAME: 'gw',
        OCPP_GW_REDIS_PASSWORD: 's3cret/=',
      }),
    );
    // Both write the registry and route to each other through the ACL user.
    const cids = ['acl-cp-0', 'acl-cp-1'];
    for (const [i, cid] of cids.entries()) {
      const cp = await ChargePoint.connect(`ws://127.0.0.1:${nodes[i]?.ports.wsPort}/ocpp/${cid}`);
      answerCalls(cp);
      cps.push(cp);
    }
    const probe = new Redis({ port: redis.port, host: '127.0.0.1', username: 'gw', password: 's3cret/=' });
    try {
      for (let i = 0; i < 50 && (await probe.exists(...cids.map((c) => `ocpp-gw:owner:${c}`))) < 2; i++) {
        await sleep(50);
      }
      assert.match((await probe.get('ocpp-gw:owner:acl-cp-0')) ?? '', /^acl-url\|/);
      assert.match((await probe.get('ocpp-gw:owner:acl-cp-1')) ?? '', /^acl-vars\|/);
    } finally {
      probe.disconnect();
    }
    for (let k = 0; k < 4; k++) {
      for (const cid of cids) await backend.publish(`ocpp/cs/${cid}`, command(`acl-${k}-${cid}`));
    }
    for (let k = 0; k < 4; k++) {
      for (const cid of cids) {
        const reply = await backend.waitFor(
          `ocpp/cp/${cid}/Reply`,
          (j: { UniqueId: string }) => j.UniqueId === `acl-${k}-${cid}`,
          5000,
        );
        assert.equal((reply.json as { MessageTypeId: number }).MessageTypeId, 3);
      }
    }
  });

  it('with a wrong password it does not become ready and logs why', async () => {
    const out = await watchGateway(
      {
        ...base(),
        OCPP_GW_NODE_ID: 'acl-wrong',
        OCPP_GW_REDIS_URL: `redis://gw:wrong@127.0.0.1:${redis.port}`,
      },
      15_000,
      /redis not reachable; retrying[^\n]*\n/,
    );
    assert.ok(!out.includes('"gateway ready"'), 'not ready without Redis');
    const why = out.split('\n').find((line) => line.includes('redis not reachable; retrying'));
    assert.match(why ?? '', /WRONGPASS/, 'the log line says the password was refused');
    assert.ok(!out.includes('wrong@'), 'the password is not logged');
  });
});
