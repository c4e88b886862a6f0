import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOOT, BROKER_MODES, setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

for (const mode of BROKER_MODES) {
  describe(`upstream mapping (${mode} broker)`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await setup(mode);
    });
    after(() => fx.teardown());

    it('publishes a CALL to ocpp/cp/{cid} in the EMQX payload layout', async () => {
      const cp = await fx.connect('client1');
      cp.send(BOOT('3335862321'));
      const msg = await fx.backend.waitFor('ocpp/cp/client1');
      assert.deepEqual(msg.json, {
        MessageTypeId: 2,
        UniqueId: '3335862321',
        Action: 'BootNotification',
        Payload: { chargePointVendor: 'vendor1', chargePointModel: 'model1' },
      });
      assert.equal(msg.retain, false);
      assert.equal(msg.qos, 2, 'upstream QoS 2 by default, as EMQX');
      if (mode === 'mosquitto') {
        assert.equal(msg.userProperties?.['ocpp-version'], '1.6');
        assert.equal(msg.userProperties?.['gateway-node'], 'test-node');
        assert.match(String(msg.userProperties?.['received-at']), /^\d{13}$/);
      }
      await sleep(100);
      assert.equal(cp.inbox.length, 0, 'the gateway never answers a CALL itself');
    });

    it('publishes a CALLRESULT to the Reply topic without Action when no downstream CALL is known', async () => {
      const cp = await fx.connect('client2');
      cp.send([3, 'abc', { status: 'Accepted' }]);
      const msg = await fx.backend.waitFor('ocpp/cp/client2/Reply');
      assert.deepEqual(msg.json, { MessageTypeId: 3, UniqueId: 'abc', Payload: { status: 'Accepted' } });
    });

    it('publishes a CALLERROR to the Reply topic and keeps ErrorDetails', async () => {
      const cp = await fx.connect('client3');
      cp.send([4, 'abc', 'NotSupported', 'nope', { x: 1 }]);
      const msg = await fx.backend.waitFor('ocpp/cp/client3/Reply');
      assert.deepEqual(msg.json, {
        MessageTypeId: 4,
        UniqueId: 'abc',
        ErrorCode: 'NotSupported',
        ErrorDescription: 'nope',
        ErrorDetails: { x: 1 },
      });
    });

    it('uses the percent-decoded id in topics', async () => {
      const cp = await fx.connect('CP 001');
      cp.send([2, 'h1', 'Heartbeat', {}]);
      await fx.backend.waitFor('ocpp/cp/CP 001', (j: { UniqueId?: string }) => j.UniqueId === 'h1');
    });

    it('keeps the order of a CP burst', async () => {
      const cp = await fx.connect('burst');
      for (let i = 0; i < 20; i++) cp.send([2, `m${i}`, 'Heartbeat', {}]);
      await fx.backend.waitFor('ocpp/cp/burst', (j: { UniqueId?: string }) => j.UniqueId === 'm19');
      const ids = fx.backend.on('ocpp/cp/burst').map((m) => (m.json as { UniqueId: string }).UniqueId);
      assert.deepEqual(
        ids,
        Array.from({ length: 20 }, (_, i) => `m${i}`),
      );
    });
  });
}

describe('topic templates, override and mountpoint', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup(
      'mosquitto',
      {
        OCPP_GW_TOPIC_PREFIX: 'tenantA/',
        OCPP_GW_UPSTREAM_TOPIC: 'cp/${cid}/${action}/${id}',
        OCPP_GW_UPSTREAM_REPLY_TOPIC: 'cp/${cid}/r/${type}',
        OCPP_GW_UPSTREAM_TOPIC_OVERRIDES: JSON.stringify({
          BootNotification: 'cp/${cid}/Notify/BootNotification',
        }),
        OCPP_GW_UPSTREAM_QOS: '1',
      },
      ['tenantA/#'],
    );
  });
  after(() => fx.teardown());

  it('routes an overridden action to its own topic (broken in EMQX, docs/architecture.md §7.10)', async () => {
    const cp = await fx.connect('client1');
    cp.send(BOOT('b1'));
    const msg = await fx.backend.waitFor('tenantA/cp/client1/Notify/BootNotification');
    assert.equal((msg.json as { UniqueId: string }).UniqueId, 'b1');
    assert.equal(msg.qos, 1);
  });

  it('renders ${action} ${id} and ${type} placeholders', async () => {
    const cp = await fx.connect('client2');
    cp.send([2, 'u1', 'Heartbeat', {}]);
    await fx.backend.waitFor('tenantA/cp/client2/Heartbeat/u1');
    cp.send([3, 'u2', {}]);
    await fx.backend.waitFor('tenantA/cp/client2/r/3');
  });

  it('subscribes downstream under the mountpoint', async () => {
    const cp = await fx.connect('client3');
    await fx.backend.publish('tenantA/cs/client3', { MessageTypeId: 3, UniqueId: 'q', Payload: {} });
    assert.deepEqual(await cp.next(), [3, 'q', {}]);
  });
});

describe('upstream flow control against mosquitto (Receive Maximum 20)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', {}, ['ocpp/cp/#']);
  });
  after(() => fx.teardown());

  it('delivers a burst of 2,000 QoS 2 CALLs from 50 charge points with no publish failure', async () => {
    const cps = await Promise.all(Array.from({ length: 50 }, (_, i) => fx.connect(`flow${i}`)));
    for (let k = 0; k < 40; k++) for (const cp of cps) cp.send([2, `m${k}`, 'Heartbeat', {}]);
    for (let i = 0; i < 100 && fx.backend.seen.length < 2000; i++) await sleep(100);
    assert.equal(fx.backend.seen.length, 2000);
    const failures = await fx.gateway.metrics.registry.getSingleMetricAsString(
      'ocpp_gateway_mqtt_publish_failures_total',
    );
    assert.match(failures, /ocpp_gateway_mqtt_publish_failures_total 0$/m);
    for (const cp of cps) assert.equal(cp.inbox.length, 0, 'no CALLERROR: every CALL reached the broker');
  });
});

describe('a CALL the broker cannot take', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_MQTT_MAX_BACKLOG: '0' });
  });
  after(() => fx.teardown());

  it('is answered with InternalError so the charge point can retry', async () => {
    const cp = await fx.connect('nobacklog');
    // A backlog of 0 and more than 20 (Receive Maximum) CALLs at once: the excess is refused.
    for (let k = 0; k < 60; k++) cp.send([2, `c${k}`, 'Heartbeat', {}]);
    const answer = (await cp.next((m) => Array.isArray(m) && m[0] === 4, 5000)) as unknown[];
    assert.equal(answer[2], 'InternalError');
    const overflow = await fx.gateway.metrics.registry.getSingleMetricAsString(
      'ocpp_gateway_mqtt_backlog_overflow_total',
    );
    assert.match(overflow, /ocpp_gateway_mqtt_backlog_overflow_total [1-9]/);
  });
});

describe('payload transparency', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('embedded');
  });
  after(() => fx.teardown());

  it('bridges the CP payload byte for byte (EMQX re-encodes it, docs/architecture.md §7.11)', async () => {
    const cp = await fx.connect('raw');
    cp.send('[2,"t1","DataTransfer",{"vendorId":"v","data":"1.0e3","n":1.0e3,"z":{"b":1,"a":2}}]');
    const msg = await fx.backend.waitFor('ocpp/cp/raw');
    assert.equal(
      msg.raw,
      '{"MessageTypeId":2,"UniqueId":"t1","Action":"DataTransfer","Payload":{"vendorId":"v","data":"1.0e3","n":1.0e3,"z":{"b":1,"a":2}}}',
    );
  });
});
