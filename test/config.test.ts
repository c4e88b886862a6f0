import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { runGateway } from './harness/gateway.js';

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
    assert.equal(c.logLevel, 'info');
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
      });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'GW_ERR_CONFIG');
    assert.deepEqual(error.problems.map((p) => p.variable).sort(), [
      'OCPP_GW_ADMIN_TOKEN',
      'OCPP_GW_DOWNSTREAM_TOPIC',
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
