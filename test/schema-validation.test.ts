import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOOT, setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

type Reply = {
  UniqueId: string;
  ErrorCode?: string;
  ErrorDescription?: string;
  ErrorDetails?: Record<string, unknown>;
};

describe('schema validation: upstream', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_SCHEMA_VALIDATION: 'upstream' });
  });
  after(() => fx.teardown());

  it('answers an invalid CALL with a CALLERROR naming the property, and publishes nothing', async () => {
    const cp = await fx.connect('s1');
    cp.send([2, 's1', 'BootNotification', { chargePointVendor: 'vendor1' }]);
    const answer = (await cp.next()) as unknown[];
    assert.equal(answer[0], 4);
    assert.equal(answer[1], 's1');
    assert.equal(answer[2], 'OccurenceConstraintViolation');
    assert.match(String(answer[3]), /chargePointModel/);
    assert.deepEqual(answer[4], {});
    await sleep(200);
    assert.equal(fx.backend.on('ocpp/cp/s1').length, 0);
  });

  it('names wrong types and values', async () => {
    const cp = await fx.connect('s1b');
    cp.send([2, 't1', 'StatusNotification', { connectorId: '1', errorCode: 'NoError', status: 'Available' }]);
    const type = (await cp.next()) as unknown[];
    assert.deepEqual([type[2], /connectorId/.test(String(type[3]))], ['TypeConstraintViolation', true]);
    cp.send([2, 't2', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }]);
    const value = (await cp.next()) as unknown[];
    assert.deepEqual([value[2], /status/.test(String(value[3]))], ['PropertyConstraintViolation', true]);
  });

  it('publishes a valid CALL', async () => {
    const cp = await fx.connect('s2');
    cp.send(BOOT('s2'));
    await fx.backend.waitFor('ocpp/cp/s2');
    assert.equal(cp.inbox.length, 0);
  });

  it('answers an unknown action with NotImplemented', async () => {
    const cp = await fx.connect('s3');
    cp.send([2, 's3', 'FooBar', {}]);
    const answer = (await cp.next()) as unknown[];
    assert.deepEqual([answer[1], answer[2]], ['s3', 'NotImplemented']);
  });

  it('replaces an invalid CP answer to a downstream CALL with a gateway error reply', async () => {
    const cp = await fx.connect('s4');
    await fx.backend.publish('ocpp/cs/s4', {
      MessageTypeId: 2,
      UniqueId: 'r1',
      Action: 'Reset',
      Payload: { type: 'Soft' },
    });
    await cp.next();
    cp.send([3, 'r1', { status: 'Maybe' }]);
    const reply = await fx.backend.waitFor('ocpp/cp/s4/Reply');
    assert.equal((reply.json as Reply).ErrorCode, 'PropertyConstraintViolation');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'invalid_reply' });
  });
});

describe('schema validation: downstream', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_SCHEMA_VALIDATION: 'downstream' });
  });
  after(() => fx.teardown());

  it('answers an invalid backend CALL with schema_violation and does not send it', async () => {
    const cp = await fx.connect('ds1');
    await fx.backend.publish('ocpp/cs/ds1', {
      MessageTypeId: 2,
      UniqueId: 'r1',
      Action: 'Reset',
      Payload: { type: 'Medium' },
    });
    const reply = await fx.backend.waitFor('ocpp/cp/ds1/Reply');
    assert.equal((reply.json as Reply).ErrorCode, 'PropertyConstraintViolation');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'schema_violation' });
    await sleep(200);
    assert.equal(cp.inbox.length, 0);
  });

  it('does not check upstream in downstream mode', async () => {
    const cp = await fx.connect('ds2');
    cp.send([2, 'x', 'FooBar', {}]);
    await fx.backend.waitFor('ocpp/cp/ds2');
  });

  it('reports an invalid backend answer to a CP CALL on the diagnostics topic', async () => {
    const cp = await fx.connect('ds3');
    cp.send(BOOT('b1'));
    await fx.backend.waitFor('ocpp/cp/ds3');
    await fx.backend.publish('ocpp/cs/ds3', {
      MessageTypeId: 3,
      UniqueId: 'b1',
      Payload: { status: 'Accepted' },
    });
    const diag = await fx.backend.waitFor('ocpp/gw/diagnostics', (j: { cid?: string }) => j.cid === 'ds3');
    assert.equal((diag.json as { reason: string }).reason, 'schema_violation');
    assert.equal(cp.inbox.length, 0);
  });
});

describe('schema validation: disable (EMQX default)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('embedded');
  });
  after(() => fx.teardown());

  it('forwards unknown actions and invalid payloads unchanged', async () => {
    const cp = await fx.connect('n1');
    cp.send([2, 's3', 'FooBar', {}]);
    cp.send([2, 's4', 'BootNotification', {}]);
    await fx.backend.waitFor('ocpp/cp/n1', (j: { UniqueId?: string }) => j.UniqueId === 's4');
    assert.equal(fx.backend.on('ocpp/cp/n1').length, 2);
    assert.equal(cp.inbox.length, 0);
  });
});
