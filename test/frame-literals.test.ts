import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDownstream } from '../src/bridge/envelope.js';
import { encodeFrame, parseFrame } from '../src/ocpp/frame.js';
import { MAX_JSON_DEPTH, jsonProblem } from '../src/ocpp/json-limits.js';
import { setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';
import { V16 } from '../src/ocpp/versions/v16.js';

/**
 * Issue 8 item 10, the frame parts: the MessageTypeId is an integer literal, a number beyond a
 * double is refused in both directions, and what the gateway writes to a charge point is held
 * to the frame size limit it applies to what it reads.
 */

const TYPES = [2, 3, 4];
const NOT_INTEGER = 'MessageTypeId is not an integer';
const OUT_OF_RANGE = 'Payload holds a number outside the range of a double';

type Reply = { MessageTypeId: number; UniqueId: string; ErrorCode?: string; ErrorDetails?: unknown };
type Diagnostic = { reason?: string; problem?: string; uniqueId?: string; messageTypeId?: number };

describe('MessageTypeId literal and number range (parser)', () => {
  for (const text of [
    '[2.0,"id","Heartbeat",{}]',
    '[2e0,"id","Heartbeat",{}]',
    '[ 20E-1 ,"id","Heartbeat",{}]',
  ]) {
    it(`answers ${text} with FormationViolation under its id`, () => {
      const result = parseFrame(text, TYPES);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.code(V16), 'FormationViolation');
      assert.equal(result.error.message, NOT_INTEGER);
      assert.equal(result.replyId, 'id');
    });
  }

  it('still reads an integer literal with JSON whitespace around it', () => {
    assert.equal(parseFrame(' [\n\t2 ,"id","Heartbeat",{}]', TYPES).ok, true);
    assert.equal(parseFrame('[3 ,"id",{}]', TYPES).ok, true);
  });

  it('refuses a number beyond a double in a CALL, CALLRESULT or CALLERROR', () => {
    const call = parseFrame('[2,"n","DataTransfer",{"vendorId":"v","data":[1e309]}]', TYPES);
    assert.ok(!call.ok && call.error.message === OUT_OF_RANGE && call.replyId === 'n');
    const result = parseFrame('[3,"r",{"v":-1E+400}]', TYPES);
    assert.ok(!result.ok && result.replyId === undefined && result.replyTo === 'r');
    const error = parseFrame('[4,"e","GenericError","",{"v":1e999}]', TYPES);
    assert.ok(!error.ok && error.replyTo === 'e');
    // The largest double and an underflow to 0 are numbers JSON.parse can hold: bridged as sent.
    assert.equal(
      parseFrame('[2,"n","DataTransfer",{"v":1.7976931348623157e308,"w":1e-400}]', TYPES).ok,
      true,
    );
  });

  it('refuses a payload nested deeper than MAX_JSON_DEPTH', () => {
    const nest = (levels: number): string => '['.repeat(levels - 1) + ']'.repeat(levels - 1);
    assert.equal(parseFrame(`[2,"d","DataTransfer",{"v":${nest(MAX_JSON_DEPTH)}}]`, TYPES).ok, true);
    const deep = parseFrame(`[2,"d","DataTransfer",{"v":${nest(MAX_JSON_DEPTH + 1)}}]`, TYPES);
    assert.ok(!deep.ok && deep.error.code(V16) === 'FormationViolation' && deep.replyId === 'd');
  });

  it('applies the same limits to downstream messages', () => {
    const parse = (text: string): string => {
      const r = parseDownstream(text);
      return r.ok ? 'ok' : r.problem;
    };
    assert.equal(
      parse('{"MessageTypeId":2,"UniqueId":"a","Action":"X","Payload":{"v":1e309}}'),
      'number_out_of_range',
    );
    assert.equal(parse('{"MessageTypeId":3,"UniqueId":"a","Payload":{"v":[-1e309]}}'), 'number_out_of_range');
    assert.equal(
      parse(
        '{"MessageTypeId":4,"UniqueId":"a","ErrorCode":"X","ErrorDescription":"","ErrorDetails":{"v":1e309}}',
      ),
      'number_out_of_range',
    );
    assert.equal(
      parse(`{"MessageTypeId":3,"UniqueId":"a","Payload":{"v":${'['.repeat(70)}${']'.repeat(70)}}}`),
      'too_deep',
    );
    assert.equal(parse('{"MessageTypeId":3,"UniqueId":"a","Payload":{"v":1.5e308},"Extra":1e309}'), 'ok');
  });

  it('checks depth and range without recursing (100,000 levels)', () => {
    assert.equal(jsonProblem(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000))), 'too_deep');
    assert.equal(jsonProblem({ a: [1, { b: [2, Infinity] }] }), 'number_out_of_range');
    assert.equal(jsonProblem({ a: [1, { b: [2, 3] }], c: null, d: 'x' }), undefined);
  });

  it('encodes a frame within the byte limit, counting UTF-8 bytes, and never throws', () => {
    assert.deepEqual(encodeFrame([3, 'a', { s: 'x'.repeat(10) }], 1024), {
      ok: true,
      text: '[3,"a",{"s":"xxxxxxxxxx"}]',
    });
    // 400 × "€" is 400 UTF-16 units but 1,200 bytes.
    assert.deepEqual(encodeFrame([3, 'a', { s: '€'.repeat(400) }], 1024), {
      ok: false,
      problem: 'too_large',
    });
    assert.equal(encodeFrame([3, 'a', { s: 'x'.repeat(1000) }], 1024).ok, true);
    let deep: unknown = 0;
    for (let i = 0; i < 50_000; i++) deep = [deep];
    assert.deepEqual(encodeFrame([3, 'a', { deep }], 1024), { ok: false, problem: 'unencodable' });
  });
});

describe('frame literals, numbers and downstream size (mosquitto, OCPP_GW_MAX_FRAME_BYTES=4096)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_MAX_FRAME_BYTES: '4096' });
  });
  after(() => fx.teardown());

  const publishedFor = (cid: string): number =>
    fx.backend.seen.filter((m) => m.topic === `ocpp/cp/${cid}` || m.topic.startsWith(`ocpp/cp/${cid}/`))
      .length;

  it('answers [2.0,"id","Heartbeat",{}] with FormationViolation and publishes nothing', async () => {
    const cp = await fx.connect('lit-type');
    cp.send('[2.0,"lit1","Heartbeat",{}]');
    assert.deepEqual(await cp.next(), [4, 'lit1', 'FormationViolation', NOT_INTEGER, {}]);
    cp.send('[2,"lit2","Heartbeat",{}]');
    await fx.backend.waitFor('ocpp/cp/lit-type', (j: Reply) => j.UniqueId === 'lit2');
    assert.equal(publishedFor('lit-type'), 1);
  });

  it('refuses 1e309 from a charge point: its CALL is answered, its answer to a command is invalid_reply', async () => {
    const cp = await fx.connect('num-up');
    cp.send('[2,"n1","DataTransfer",{"vendorId":"v","data":1e309}]');
    assert.deepEqual(await cp.next(), [4, 'n1', 'FormationViolation', OUT_OF_RANGE, {}]);
    await fx.backend.publish('ocpp/cs/num-up', {
      MessageTypeId: 2,
      UniqueId: 'c1',
      Action: 'DataTransfer',
      Payload: { vendorId: 'v' },
    });
    assert.equal(((await cp.next()) as unknown[])[1], 'c1');
    cp.send('[3,"c1",{"status":"Accepted","data":1e309}]');
    const reply = await fx.backend.waitFor('ocpp/cp/num-up/Reply', (j: Reply) => j.UniqueId === 'c1');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'invalid_reply' });
    assert.equal(publishedFor('num-up'), 1, 'only the gateway error reply');
  });

  it('refuses 1e309 from a backend: a CALL gets `malformed`, a CALLRESULT a diagnostic', async () => {
    const cp = await fx.connect('num-down');
    await fx.backend.publish(
      'ocpp/cs/num-down',
      '{"MessageTypeId":2,"UniqueId":"d1","Action":"DataTransfer","Payload":{"vendorId":"v","data":1e309}}',
    );
    const reply = await fx.backend.waitFor('ocpp/cp/num-down/Reply', (j: Reply) => j.UniqueId === 'd1');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'malformed' });
    cp.send([2, 'up1', 'Heartbeat', {}]);
    await fx.backend.waitFor('ocpp/cp/num-down', (j: Reply) => j.UniqueId === 'up1');
    await fx.backend.publish(
      'ocpp/cs/num-down',
      '{"MessageTypeId":3,"UniqueId":"up1","Payload":{"v":-1e309}}',
    );
    const diagnostic = await fx.backend.waitFor(
      'ocpp/gw/diagnostics',
      (j: Diagnostic) => j.uniqueId === 'up1',
    );
    assert.equal((diagnostic.json as Diagnostic).problem, 'number_out_of_range');
    await sleep(100);
    assert.equal(cp.inbox.length, 0, 'neither reached the charge point (as null)');
    // A large but finite number goes through, as JSON.stringify writes it.
    await fx.backend.publish(
      'ocpp/cs/num-down',
      '{"MessageTypeId":3,"UniqueId":"up1","Payload":{"v":1.5e308}}',
    );
    assert.deepEqual(await cp.next(), [3, 'up1', { v: 1.5e308 }]);
  });

  it('answers a CALL whose frame would exceed the limit with `too_large`; the next one is written', async () => {
    const cp = await fx.connect('big-call');
    const big = (id: string, data: string): Record<string, unknown> => ({
      MessageTypeId: 2,
      UniqueId: id,
      Action: 'DataTransfer',
      Payload: { vendorId: 'v', data },
    });
    await fx.backend.publish('ocpp/cs/big-call', big('b1', 'x'.repeat(5000)));
    const reply = await fx.backend.waitFor('ocpp/cp/big-call/Reply', (j: Reply) => j.UniqueId === 'b1');
    assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'too_large' });
    // Bytes, not characters: 1,500 × "€" is 4,500 bytes of UTF-8.
    await fx.backend.publish('ocpp/cs/big-call', big('b2', '€'.repeat(1500)));
    const b2 = await fx.backend.waitFor('ocpp/cp/big-call/Reply', (j: Reply) => j.UniqueId === 'b2');
    assert.deepEqual((b2.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'too_large' });
    await fx.backend.publish('ocpp/cs/big-call', big('b3', 'x'.repeat(3000)));
    const frame = (await cp.next()) as unknown[];
    assert.equal(frame[1], 'b3', 'a frame within the limit is written, and the queue was not blocked');
    assert.ok(cp.rawInbox.every((t) => Buffer.byteLength(t) <= 4096));
  });

  it('reports a CALLRESULT whose frame would exceed the limit on the diagnostics topic', async () => {
    const cp = await fx.connect('big-result');
    cp.send([2, 'up2', 'Heartbeat', {}]);
    await fx.backend.waitFor('ocpp/cp/big-result', (j: Reply) => j.UniqueId === 'up2');
    await fx.backend.publish('ocpp/cs/big-result', {
      MessageTypeId: 3,
      UniqueId: 'up2',
      Payload: { data: 'x'.repeat(5000) },
    });
    const diagnostic = await fx.backend.waitFor(
      'ocpp/gw/diagnostics',
      (j: Diagnostic) => j.uniqueId === 'up2',
    );
    assert.equal((diagnostic.json as Diagnostic).reason, 'too_large');
    assert.equal((diagnostic.json as Diagnostic).messageTypeId, 3);
    await sleep(100);
    assert.equal(cp.inbox.length, 0);
  });
});
