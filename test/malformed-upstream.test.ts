import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

describe('malformed upstream frames', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_MAX_FRAME_BYTES: '4096' });
  });
  after(() => fx.teardown());

  const cases: Array<[string, string, unknown[]]> = [
    ['bad JSON', '[2,"x","Heartbeat",{', [4, 'x', 'FormationViolation', 'message is not valid JSON', {}]],
    [
      'two frames in one message',
      '[2,"a","Heartbeat",{}][2,"b","Heartbeat",{}]',
      [4, 'a', 'FormationViolation', 'message is not valid JSON', {}],
    ],
    ['an object', '{}', [4, '-1', 'FormationViolation', 'message is not a non-empty JSON array', {}]],
    ['an empty array', '[]', [4, '-1', 'FormationViolation', 'message is not a non-empty JSON array', {}]],
    [
      'a CALL without payload',
      '[2,"id3","Heartbeat"]',
      [4, 'id3', 'ProtocolError', 'CALL needs 4 elements', {}],
    ],
    [
      'an unknown message type',
      '[5,"id4"]',
      [4, 'id4', 'NotImplemented', 'MessageTypeId 5 is not supported', {}],
    ],
    [
      'a numeric UniqueId',
      '[2,12345,"Heartbeat",{}]',
      [4, '-1', 'FormationViolation', 'UniqueId must be a string of 1..128 characters', {}],
    ],
    [
      'a non-object payload',
      '[2,"id6","Heartbeat",[]]',
      [4, 'id6', 'FormationViolation', 'Payload must be a JSON object', {}],
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`answers ${name} with a CALLERROR and publishes nothing`, async () => {
      const cid = `m-${name.replace(/\W+/g, '-')}`;
      const cp = await fx.connect(cid);
      cp.send(input);
      assert.deepEqual(await cp.next(), expected);
      cp.send([2, 'after', 'Heartbeat', {}]);
      // The next good frame still flows, and is the only thing published for this CP.
      await fx.backend.waitFor(`ocpp/cp/${cid}`, (j: { UniqueId?: string }) => j.UniqueId === 'after');
      assert.equal(fx.backend.seen.filter((m) => m.topic.startsWith(`ocpp/cp/${cid}`)).length, 1);
      assert.equal(cp.closed, undefined);
    });
  }

  it('does not answer a malformed reply (OCPP-J 1.6 §4.2.3) and publishes nothing', async () => {
    const cp = await fx.connect('m-reply');
    cp.send('[4,"id","GenericError","d"]');
    cp.send('[3,"id"]');
    await sleep(300);
    assert.equal(cp.inbox.length, 0);
    assert.equal(fx.backend.seen.filter((m) => m.topic.startsWith('ocpp/cp/m-reply')).length, 0);
  });

  it('ends an outstanding downstream CALL answered with a malformed reply with invalid_reply', async () => {
    const cp = await fx.connect('m-bad-answer');
    await fx.backend.publish('ocpp/cs/m-bad-answer', {
      MessageTypeId: 2,
      UniqueId: 'c1',
      Action: 'ClearCache',
      Payload: {},
    });
    await cp.next();
    cp.send('[3,"c1","not an object"]');
    const reply = await fx.backend.waitFor('ocpp/cp/m-bad-answer/Reply');
    assert.deepEqual((reply.json as { ErrorDetails: unknown }).ErrorDetails, {
      origin: 'gateway',
      reason: 'invalid_reply',
    });
  });

  it('closes a binary frame with 1003', async () => {
    const cp = await fx.connect('m-binary');
    cp.ws.send(Buffer.from('[2,"b","Heartbeat",{}]'), { binary: true });
    assert.equal((await cp.waitClose()).code, 1003);
    await fx.backend.waitFor(
      'ocpp/events/m-binary/disconnected',
      (j: { reason?: string }) => j.reason === 'binary_frame',
    );
  });

  it('closes a frame over OCPP_GW_MAX_FRAME_BYTES with 1009', async () => {
    const cp = await fx.connect('m-big');
    cp.send([2, 'big', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(5000) }]);
    assert.equal((await cp.waitClose()).code, 1009);
    assert.equal(fx.backend.seen.filter((m) => m.topic === 'ocpp/cp/m-big').length, 0);
  });

  it('counts frame errors by OCPP error code', async () => {
    const text = await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_frame_errors_total');
    assert.match(text, /error_code="FormationViolation"} [1-9]/);
    assert.match(text, /error_code="NotImplemented"} [1-9]/);
  });
});
