import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokerNeeds, brokerShortfalls } from '../../src/bridge/broker-limits.js';
import { loadConfig } from '../../src/config/index.js';
import { configProblems } from '../harness/config-problems.js';

const CLUSTER = { OCPP_GW_REDIS_URL: 'redis://127.0.0.1:6379' };

describe('OCPP_GW_DOWNSTREAM_SUBSCRIBE', () => {
  it('defaults to true, in both modes', () => {
    assert.equal(loadConfig({}).downstreamSubscribe, true);
    assert.equal(loadConfig(CLUSTER).downstreamSubscribe, true);
  });

  it('false is accepted in cluster mode (Redis URL or Redis Cluster seeds) and frozen', () => {
    const c = loadConfig({ ...CLUSTER, OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'false' });
    assert.equal(c.downstreamSubscribe, false);
    assert.ok(Object.isFrozen(c));
    const seeds = { OCPP_GW_REDIS_CLUSTER_NODES: '10.0.0.1:7000', OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'false' };
    assert.equal(loadConfig(seeds).downstreamSubscribe, false);
  });

  it('false is refused by name in single-node mode; a value that is no boolean too', () => {
    assert.deepEqual(configProblems({ OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'false' }), [
      'OCPP_GW_DOWNSTREAM_SUBSCRIBE',
    ]);
    assert.deepEqual(configProblems({ ...CLUSTER, OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'sometimes' }), [
      'OCPP_GW_DOWNSTREAM_SUBSCRIBE',
    ]);
  });

  it('a node that does not subscribe does not warn about a broker without shared subscriptions', () => {
    const props = { sharedSubscriptionAvailable: false };
    const subscribing = loadConfig(CLUSTER);
    const socketsOnly = loadConfig({ ...CLUSTER, OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'false' });
    const settings = (config: typeof subscribing) =>
      brokerShortfalls(props, brokerNeeds(config, 'ocpp-gw', 0)).map((s) => s.setting);
    assert.deepEqual(settings(subscribing), ['Shared Subscription Available']);
    assert.deepEqual(settings(socketsOnly), []);
  });
});

describe('OCPP_GW_DRAIN_UNSUBSCRIBE', () => {
  const BROKER = { OCPP_GW_MQTT_URL: 'mqtt://127.0.0.1:1883' };

  it('defaults to true; false is accepted with an external broker and a session that outlives the connection', () => {
    assert.equal(loadConfig({}).drainUnsubscribe, true);
    assert.equal(
      loadConfig({ ...CLUSTER, ...BROKER, OCPP_GW_DRAIN_UNSUBSCRIBE: 'false' }).drainUnsubscribe,
      false,
    );
    assert.equal(loadConfig({ ...BROKER, OCPP_GW_DRAIN_UNSUBSCRIBE: 'false' }).drainUnsubscribe, false);
  });

  it('false is refused by name with the embedded broker or a session expiry of 0', () => {
    assert.deepEqual(configProblems({ OCPP_GW_DRAIN_UNSUBSCRIBE: 'false' }), ['OCPP_GW_DRAIN_UNSUBSCRIBE']);
    assert.deepEqual(
      configProblems({ ...BROKER, OCPP_GW_MQTT_SESSION_EXPIRY_S: '0', OCPP_GW_DRAIN_UNSUBSCRIBE: 'false' }),
      ['OCPP_GW_DRAIN_UNSUBSCRIBE'],
    );
    assert.deepEqual(configProblems({ ...BROKER, OCPP_GW_DRAIN_UNSUBSCRIBE: 'maybe' }), [
      'OCPP_GW_DRAIN_UNSUBSCRIBE',
    ]);
  });
});
