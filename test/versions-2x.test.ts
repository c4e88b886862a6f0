import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { pickSubprotocol } from '../src/edge/handshake.js';
import { parseFrame } from '../src/ocpp/frame.js';
import { SchemaPolicy } from '../src/ocpp/schema-policy.js';
import { SUBPROTOCOLS, VERSIONS } from '../src/ocpp/versions/index.js';
import { OCPP201_ACTIONS, V201 } from '../src/ocpp/versions/v201.js';
import { OCPP21_ACTIONS, OCPP21_SEND_ONLY_ACTIONS, V21 } from '../src/ocpp/versions/v21.js';

const require = createRequire(import.meta.url);

/** Action names of ocpp-rpc's bundled schema set: an independent source to count against. */
function ocppRpcActions(file: string, suffix: RegExp): Set<string> {
  const schemas = require(`ocpp-rpc/lib/schemas/${file}`) as Array<{ $id: string }>;
  return new Set(schemas.map((schema) => schema.$id.replace(/^urn:/, '').replace(suffix, '')));
}

async function validators() {
  const policy = await SchemaPolicy.create({
    upstream: true,
    downstream: true,
    subprotocols: ['ocpp2.0.1', 'ocpp2.1'],
  });
  const v201 = policy.upstream(V201);
  const v21 = policy.upstream(V21);
  assert.ok(v201 !== undefined && v21 !== undefined);
  return { v201, v21 };
}

describe('schema compilation', () => {
  it('every schema of every version compiles (they are compiled lazily at run time)', async () => {
    const policy = await SchemaPolicy.create({
      upstream: true,
      downstream: false,
      subprotocols: ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'],
    });
    for (const version of Object.values(VERSIONS)) policy.upstream(version)?.compileAll();
  });
});

describe('OCPP 2.0.1 and 2.1 descriptors', () => {
  it('spell every problem in the 2.x codes (OCPP-J 2.0.1 Part 4 §4.3)', () => {
    for (const version of [V201, V21]) {
      assert.equal(version.errorCodes.bad_payload, 'FormatViolation');
      assert.equal(version.errorCodes.unknown_type, 'MessageTypeNotSupported');
      assert.equal(version.errorCodes.malformed, 'RpcFrameworkError');
      assert.equal(version.errorCodes.bad_id, 'RpcFrameworkError');
      assert.equal(version.errorCodes.occurrence, 'OccurrenceConstraintViolation');
      assert.equal(version.errorCodes.generic, 'GenericError');
      assert.equal(version.maxUniqueIdLength, 36);
    }
    assert.deepEqual(V201.messageTypes, [2, 3, 4]);
    assert.deepEqual(V21.messageTypes, [2, 3, 4, 5, 6]);
  });

  it('OCPP_GW_SUBPROTOCOLS defaults to all three; the client order chooses', () => {
    assert.deepEqual(loadConfig({}).subprotocols, ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1']);
    assert.deepEqual(SUBPROTOCOLS, ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1']);
    assert.equal(pickSubprotocol('ocpp2.1, ocpp2.0.1, ocpp1.6', SUBPROTOCOLS), 'ocpp2.1');
    assert.equal(pickSubprotocol('ocpp1.6, ocpp2.1', SUBPROTOCOLS), 'ocpp1.6');
    assert.equal(pickSubprotocol('ocpp2.1, ocpp2.0.1', ['ocpp2.0.1']), 'ocpp2.0.1');
    assert.deepEqual(loadConfig({ OCPP_GW_SUBPROTOCOLS: 'ocpp2.0.1,ocpp1.6' }).subprotocols, [
      'ocpp2.0.1',
      'ocpp1.6',
    ]);
  });

  it('a 2.x messageId over 36 characters is refused; an unreadable one is answered as -1', () => {
    const long = parseFrame(`[2,"${'x'.repeat(37)}","Heartbeat",{}]`, V201.messageTypes, 36);
    assert.equal(long.ok, false);
    if (!long.ok) {
      assert.equal(long.error.code(V201), 'RpcFrameworkError');
      assert.equal(long.replyId, '-1');
    }
    const broken = parseFrame('[2, "abc", "Heartbeat", {', V201.messageTypes, 36);
    assert.ok(!broken.ok && broken.replyId === 'abc' && broken.error.code(V201) === 'RpcFrameworkError');
    const notArray = parseFrame('{"a":1}', V21.messageTypes, 36);
    assert.ok(!notArray.ok && notArray.replyId === '-1');
  });

  it('2.1 frames 5 and 6 parse; 2.0.1 answers them MessageTypeNotSupported', () => {
    const send = parseFrame('[6,"s1","NotifyPeriodicEventStream",{"id":1}]', V21.messageTypes, 36);
    assert.ok(send.ok);
    if (send.ok) {
      assert.deepEqual(send.frame, [6, 's1', 'NotifyPeriodicEventStream', { id: 1 }]);
      assert.equal(send.payloadText, '{"id":1}');
    }
    const cre = parseFrame('[5,"r1","FormatViolation","bad",{}]', V21.messageTypes, 36);
    assert.ok(cre.ok && cre.frame[0] === 5);
    const on201 = parseFrame('[6,"s1","X",{}]', V201.messageTypes, 36);
    assert.ok(!on201.ok && on201.error.code(V201) === 'MessageTypeNotSupported' && on201.replyId === 's1');
    // A malformed SEND is never answered (OCPP-J 2.1 Part 4 §4.2.5).
    const badSend = parseFrame('[6,"s1","X",[]]', V21.messageTypes, 36);
    assert.ok(!badSend.ok && badSend.replyId === undefined);
  });

  it('2.0.1 has schemas for exactly its 64 actions, both directions', async () => {
    const { v201 } = await validators();
    assert.equal(OCPP201_ACTIONS.length, 64);
    assert.deepEqual(v201.actions, [...OCPP201_ACTIONS].sort());
    const other = ocppRpcActions('ocpp2_0_1.json', /\.(req|conf)$/);
    assert.deepEqual([...other].sort(), [...OCPP201_ACTIONS].sort());
    for (const action of OCPP201_ACTIONS) {
      assert.notEqual(v201.validate(action, 'response', {})?.problem, 'unknown_action', action);
    }
  });

  it('2.1 has schemas for its 90 request/response actions and its SEND-only message', async () => {
    const { v21 } = await validators();
    assert.equal(OCPP21_ACTIONS.length, 90);
    assert.deepEqual(v21.actions, [...OCPP21_ACTIONS, ...OCPP21_SEND_ONLY_ACTIONS].sort());
    const other = ocppRpcActions('ocpp2_1.json', /(Request|Response)$/);
    assert.deepEqual([...other].sort(), [...OCPP21_ACTIONS, ...OCPP21_SEND_ONLY_ACTIONS].sort());
    assert.equal(v21.validate('NotifyPeriodicEventStream', 'response', {})?.problem, 'unknown_action');
  });

  it('schema failures name the property and use the 2.x codes', async () => {
    const { v201, v21 } = await validators();
    const missing = v201.validate('BootNotification', 'request', {
      chargingStation: { model: 'M' },
      reason: 'PowerUp',
    });
    assert.equal(missing?.code(V201), 'OccurrenceConstraintViolation');
    assert.match(missing?.message ?? '', /"vendorName" is required in \/chargingStation/);
    const badEnum = v21.validate('Reset', 'request', { type: 'Sometime' });
    assert.equal(badEnum?.code(V21), 'PropertyConstraintViolation');
    assert.match(badEnum?.message ?? '', /\/type must be one of/);
    const badType = v201.validate('Heartbeat', 'response', { currentTime: 5 });
    assert.equal(badType?.code(V201), 'TypeConstraintViolation');
    assert.equal(
      v201.validate('TransactionEvent', 'request', { eventType: 'Started' })?.code(V201),
      'OccurrenceConstraintViolation',
    );
  });

  it('every registered version is described with its proto_ver', () => {
    assert.deepEqual(
      Object.values(VERSIONS).map((version) => version.protoVer),
      ['1.6', '2.0.1', '2.1'],
    );
  });
});
