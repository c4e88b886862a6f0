import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import { runGateway } from './harness/gateway.js';
import { configProblems } from './harness/config-problems.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ OCPP_GW_NODE_ID: 'n1' });
    assert.equal(c.port, 33033);
    assert.equal(c.path, '/ocpp');
    assert.equal(c.http.port, 9464);
    assert.equal(c.mqtt.url, undefined);
    assert.equal(c.mqtt.embeddedPort, 1883);
    assert.equal(c.mqtt.upstreamQos, 2);
    assert.equal(c.mqtt.clientId, 'ocpp-gw-n1');
    assert.equal(c.topics.mountpoint, 'ocpp/');
    assert.equal(c.topics.upstream, 'cp/${cid}');
    assert.equal(c.topics.reply, 'cp/${cid}/Reply');
    assert.equal(c.topics.downstream, 'cs/${cid}');
    assert.equal(c.schemaValidation, 'disable');
    assert.equal(c.callTimeoutMs, 30_000);
    assert.equal(c.maxQueueLength, 100);
    assert.equal(c.heartbeatIntervalS, 60);
    assert.equal(c.heapSettleS, 10);
    assert.equal(c.logLevel, 'info');
    assert.equal(loadConfig({ OCPP_GW_HEAP_SETTLE_S: '0' }).heapSettleS, 0);
  });

  it('turns cluster mode on with a Redis URL or Redis Cluster seeds, with documented defaults', () => {
    assert.equal(loadConfig({}).cluster, undefined, 'single-node mode without Redis');
    const c = loadConfig({ OCPP_GW_REDIS_URL: 'rediss://gw:s3cret@redis.example:6380/2' }).cluster;
    assert.ok(c !== undefined);
    assert.equal(c.tls, true, 'rediss: implies TLS');
    assert.equal(c.prefix, 'ocpp-gw');
    assert.equal(c.heartbeatMs, 1500);
    assert.equal(c.nodeTtlMs, 6000);
    assert.equal(c.ownerTtlS, 86_400);
    assert.equal(c.routeTimeoutMs, 70_000, 'call timeout x 2 + 10 s');
    assert.equal(c.adoptSessions, true);
    const rc = loadConfig({ OCPP_GW_REDIS_CLUSTER_NODES: '10.0.0.1:7000, [fd00::1]:7001' }).cluster;
    assert.deepEqual(rc?.clusterNodes, [
      { host: '10.0.0.1', port: 7000 },
      { host: 'fd00::1', port: 7001 },
    ]);
  });

  it('rejects inconsistent cluster settings by name', () => {
    const problems = configProblems;
    assert.deepEqual(
      problems({ OCPP_GW_REDIS_URL: 'redis://a:6379', OCPP_GW_REDIS_CLUSTER_NODES: 'b:7000' }),
      ['OCPP_GW_REDIS_CLUSTER_NODES'],
    );
    assert.deepEqual(
      problems({
        OCPP_GW_REDIS_URL: 'redis://a',
        OCPP_GW_NODE_HEARTBEAT_MS: '1000',
        OCPP_GW_NODE_TTL_MS: '1500',
      }),
      ['OCPP_GW_NODE_TTL_MS'],
    );
    assert.deepEqual(problems({ OCPP_GW_REDIS_URL: 'redis://a', OCPP_GW_REDIS_PREFIX: 'bad prefix' }), [
      'OCPP_GW_REDIS_PREFIX',
    ]);
  });

  it('is deeply frozen', () => {
    const c = loadConfig({});
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.mqtt));
    assert.ok(Object.isFrozen(c.topics.upstreamOverrides));
  });

  it('reports every invalid variable at once, by name', () => {
    let error: unknown;
    try {
      loadConfig({
        OCPP_GW_PORT: 'abc',
        OCPP_GW_SCHEMA_VALIDATION: 'sometimes',
        OCPP_GW_UPSTREAM_QOS: '3',
        OCPP_GW_MQTT_URL: 'http://x',
        OCPP_GW_UPSTREAM_TOPIC: 'cp/${nope}',
        OCPP_GW_UPSTREAM_TOPIC_OVERRIDES: '{"Boot":"a/#"}',
        OCPP_GW_SUBPROTOCOLS: 'ocpp1.6,ocpp9',
        OCPP_GW_DOWNSTREAM_TOPIC: 'cs/all',
        OCPP_GW_REQUIRE_SUBPROTOCOL: 'perhaps',
        OCPP_GW_REDIS_URL: 'http://127.0.0.1:6379',
        OCPP_GW_REDIS_CLUSTER_NODES: '127.0.0.1:7000,nohost',
        OCPP_GW_ADMIN_TOKEN: 'short',
        OCPP_GW_HEAP_SETTLE_S: '-1',
      });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'GW_ERR_CONFIG');
    assert.deepEqual(error.problems.map((p) => p.variable).sort(), [
      'OCPP_GW_ADMIN_TOKEN',
      'OCPP_GW_DOWNSTREAM_TOPIC',
      'OCPP_GW_HEAP_SETTLE_S',
      'OCPP_GW_MQTT_URL',
      'OCPP_GW_PORT',
      'OCPP_GW_REDIS_CLUSTER_NODES',
      'OCPP_GW_REDIS_URL',
      'OCPP_GW_REQUIRE_SUBPROTOCOL',
      'OCPP_GW_SCHEMA_VALIDATION',
      'OCPP_GW_SUBPROTOCOLS',
      'OCPP_GW_UPSTREAM_QOS',
      'OCPP_GW_UPSTREAM_TOPIC',
      'OCPP_GW_UPSTREAM_TOPIC_OVERRIDES',
    ]);
  });

  it('exits the process with code 2 and names each variable on stderr', async () => {
    const result = await runGateway({ OCPP_GW_PORT: '70000', OCPP_GW_LOG_LEVEL: 'loud' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /GW_ERR_CONFIG/);
    assert.match(result.stderr, /OCPP_GW_PORT="70000": must be an integer from 0 to 65535/);
    assert.match(result.stderr, /OCPP_GW_LOG_LEVEL="loud": must be one of/);
  });
});
