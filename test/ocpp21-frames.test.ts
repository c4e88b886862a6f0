import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

type Published = Record<string, unknown>;

describe('OCPP 2.1 SEND and CALLRESULTERROR, 2.x error codes (raw WebSocket stations)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_SCHEMA_VALIDATION: 'upstream' });
  });
  after(() => fx.teardown());

  it("bridges a station's SEND to the CALL topic with MessageTypeId 6 and answers nothing", async () => {
    const cp = await fx.connect('s21-send', ['ocpp2.1']);
    const payload = { id: 3, pending: 0, basetime: '2026-01-01T00:00:00Z', data: [{ t: 0, v: '1.5' }] };
    cp.send([6, 'snd-1', 'NotifyPeriodicEventStream', payload]);
    const msg = await fx.backend.waitFor('ocpp/cp/s21-send');
    assert.deepEqual(msg.json, {
      MessageTypeId: 6,
      UniqueId: 'snd-1',
      Action: 'NotifyPeriodicEventStream',
      Payload: payload,
    });
    assert.equal(msg.userProperties?.['ocpp-version'], '2.1');
    await sleep(300);
    assert.equal(cp.inbox.length, 0);
  });

  it('reports a SEND that breaks its schema on the diagnostics topic, never answering it', async () => {
    const cp = await fx.connect('s21-badsend', ['ocpp2.1']);
    cp.send([6, 'snd-2', 'NotifyPeriodicEventStream', { id: 3 }]);
    const diag = await fx.backend.waitFor(
      'ocpp/gw/diagnostics',
      (j: Published) => j.cid === 's21-badsend' && j.uniqueId === 'snd-2',
    );
    assert.equal((diag.json as Published).reason, 'schema_violation');
    assert.equal((diag.json as Published).errorCode, 'OccurrenceConstraintViolation');
    assert.match(String((diag.json as Published).description), /"pending" is required/);
    await sleep(200);
    assert.equal(cp.inbox.length, 0);
    assert.equal(fx.backend.on('ocpp/cp/s21-badsend').length, 0);
  });

  it('writes a backend SEND beside an outstanding CALL and tracks no reply for it', async () => {
    const cp = await fx.connect('s21-down', ['ocpp2.1']);
    await fx.backend.publish('ocpp/cs/s21-down', {
      MessageTypeId: 2,
      UniqueId: 'c-1',
      Action: 'ClearCache',
      Payload: {},
    });
    assert.deepEqual(await cp.next(), [2, 'c-1', 'ClearCache', {}]);
    // The CALL is outstanding: a second CALL waits, a SEND does not.
    await fx.backend.publish('ocpp/cs/s21-down', {
      MessageTypeId: 2,
      UniqueId: 'c-2',
      Action: 'ClearCache',
      Payload: {},
    });
    await fx.backend.publish('ocpp/cs/s21-down', {
      MessageTypeId: 6,
      UniqueId: 'snd-d',
      Action: 'NotifyPeriodicEventStream',
      Payload: { id: 1, pending: 0, basetime: '2026-01-01T00:00:00Z', data: [] },
    });
    assert.deepEqual(await cp.next(), [
      6,
      'snd-d',
      'NotifyPeriodicEventStream',
      { id: 1, pending: 0, basetime: '2026-01-01T00:00:00Z', data: [] },
    ]);
    assert.equal(cp.inbox.length, 0, 'c-2 waits behind the outstanding c-1');
    // The station answers c-1 with a CALLRESULTERROR: it settles c-1 and carries its Action.
    cp.send([5, 'c-1', 'FormatViolation', 'not what I expected', { hint: 1 }]);
    const reply = await fx.backend.waitFor('ocpp/cp/s21-down/Reply', (j: Published) => j.UniqueId === 'c-1');
    assert.deepEqual(reply.json, {
      MessageTypeId: 5,
      UniqueId: 'c-1',
      ErrorCode: 'FormatViolation',
      ErrorDescription: 'not what I expected',
      ErrorDetails: { hint: 1 },
      Action: 'ClearCache',
    });
    assert.deepEqual(await cp.next(), [2, 'c-2', 'ClearCache', {}]);
    cp.send([3, 'c-2', { status: 'Accepted' }]);
    await fx.backend.waitFor('ocpp/cp/s21-down/Reply', (j: Published) => j.UniqueId === 'c-2');
    const replies = fx.backend.on('ocpp/cp/s21-down/Reply').map((m) => (m.json as Published).UniqueId);
    assert.deepEqual(replies, ['c-1', 'c-2'], 'no reply is published for the SEND');
  });

  it("writes a backend CALLRESULTERROR answering the station's CALLRESULT", async () => {
    const cp = await fx.connect('s21-cre', ['ocpp2.1']);
    await fx.backend.publish('ocpp/cs/s21-cre', {
      MessageTypeId: 5,
      UniqueId: 'r-9',
      ErrorCode: 'PropertyConstraintViolation',
      ErrorDescription: 'status unknown',
    });
    assert.deepEqual(await cp.next(), [5, 'r-9', 'PropertyConstraintViolation', 'status unknown', {}]);
  });

  it('reports a SEND for a 2.0.1 or 1.6 station as unsupported_type instead of writing it', async () => {
    for (const [cid, protocol] of [
      ['s201-send', 'ocpp2.0.1'],
      ['s16-send', 'ocpp1.6'],
    ] as const) {
      const cp = await fx.connect(cid, [protocol]);
      await fx.backend.publish(`ocpp/cs/${cid}`, {
        MessageTypeId: 6,
        UniqueId: 'snd-x',
        Action: 'NotifyPeriodicEventStream',
        Payload: {},
      });
      const diag = await fx.backend.waitFor('ocpp/gw/diagnostics', (j: Published) => j.cid === cid);
      assert.equal((diag.json as Published).reason, 'unsupported_type');
      assert.equal((diag.json as Published).messageTypeId, 6);
      assert.equal(cp.inbox.length, 0);
    }
  });

  const malformed: Array<[string, string, string, unknown[]]> = [
    [
      'bad JSON',
      'ocpp2.0.1',
      '[2,"x","Heartbeat",{',
      [4, 'x', 'RpcFrameworkError', 'message is not valid JSON', {}],
    ],
    [
      'an object',
      'ocpp2.1',
      '{}',
      [4, '-1', 'RpcFrameworkError', 'message is not a non-empty JSON array', {}],
    ],
    [
      'a messageId over 36 characters',
      'ocpp2.0.1',
      `[2,"${'i'.repeat(37)}","Heartbeat",{}]`,
      [4, '-1', 'RpcFrameworkError', 'UniqueId must be a string of 1..36 characters', {}],
    ],
    [
      'an unknown message type',
      'ocpp2.1',
      '[7,"id4"]',
      [4, 'id4', 'MessageTypeNotSupported', 'MessageTypeId 7 is not supported', {}],
    ],
    [
      'a SEND to a 2.0.1 gateway session',
      'ocpp2.0.1',
      '[6,"id5","NotifyEvent",{}]',
      [4, 'id5', 'MessageTypeNotSupported', 'MessageTypeId 6 is not supported', {}],
    ],
    [
      'a non-object payload',
      'ocpp2.1',
      '[2,"id6","Heartbeat",[]]',
      [4, 'id6', 'FormatViolation', 'Payload must be a JSON object', {}],
    ],
    [
      'a CALL missing a required property',
      'ocpp2.0.1',
      '[2,"id7","Authorize",{"idToken":{"type":"ISO14443"}}]',
      [4, 'id7', 'OccurrenceConstraintViolation', '"idToken" is required in /idToken', {}],
    ],
  ];
  for (const [name, protocol, input, expected] of malformed) {
    it(`answers ${name} (${protocol}) with the 2.x code`, async () => {
      const cid = `m2-${name.replace(/\W+/g, '-').slice(0, 30)}`;
      const cp = await fx.connect(cid, [protocol]);
      cp.send(input);
      assert.deepEqual(await cp.next(), expected);
      assert.equal(fx.backend.seen.filter((m) => m.topic.startsWith(`ocpp/cp/${cid}`)).length, 0);
      assert.equal(cp.closed, undefined);
    });
  }
});
