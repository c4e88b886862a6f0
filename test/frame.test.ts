import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFrame } from '../src/ocpp/frame.js';
import { V16 } from '../src/ocpp/versions/v16.js';

const TYPES = [2, 3, 4];

describe('parseFrame (OCPP-J 1.6 §4)', () => {
  it('parses CALL, CALLRESULT and CALLERROR', () => {
    assert.deepEqual(parseFrame('[2,"a","Heartbeat",{}]', TYPES), {
      ok: true,
      frame: [2, 'a', 'Heartbeat', {}],
      payloadText: '{}',
    });
    assert.deepEqual(parseFrame('[3,"a",{"x":1}]', TYPES), {
      ok: true,
      frame: [3, 'a', { x: 1 }],
      payloadText: '{"x":1}',
    });
    assert.deepEqual(parseFrame('[4,"a","GenericError","d",{"k":"v"}]', TYPES), {
      ok: true,
      frame: [4, 'a', 'GenericError', 'd', { k: 'v' }],
    });
  });

  const cases: Array<[string, string, string | undefined]> = [
    ['not json', 'FormationViolation', '-1'],
    ['[2,"trunc","Heartbeat",{', 'FormationViolation', 'trunc'],
    ['[2,"a","Heartbeat",{}][2,"b","Heartbeat",{}]', 'FormationViolation', 'a'],
    ['{}', 'FormationViolation', '-1'],
    ['[]', 'FormationViolation', '-1'],
    ['["2","a","Heartbeat",{}]', 'FormationViolation', 'a'],
    ['[2,"id","Heartbeat"]', 'ProtocolError', 'id'],
    ['[2,"id","Heartbeat",{},1]', 'FormationViolation', 'id'],
    ['[2,"id",7,{}]', 'FormationViolation', 'id'],
    ['[2,"id","Heartbeat",[]]', 'FormationViolation', 'id'],
    ['[2,"id","Heartbeat",null]', 'FormationViolation', 'id'],
    ['[2,12345,"Heartbeat",{}]', 'FormationViolation', '-1'],
    ['[2,"","Heartbeat",{}]', 'FormationViolation', '-1'],
    [`[2,"${'x'.repeat(129)}","Heartbeat",{}]`, 'FormationViolation', '-1'],
    ['[5,"id"]', 'NotImplemented', 'id'],
    ['[7,"id",{}]', 'NotImplemented', 'id'],
    ['[2.5,"id","Heartbeat",{}]', 'FormationViolation', 'id'],
  ];
  for (const [input, code, replyId] of cases) {
    it(`answers ${input.slice(0, 40)} with ${code}`, () => {
      const result = parseFrame(input, TYPES);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.code(V16), code);
      assert.equal(result.replyId, replyId);
      assert.deepEqual(result.error.toCallError('x', V16)[4], {});
    });
  }

  it('never answers a malformed reply, but says which call it concerned', () => {
    for (const input of ['[3,"r1"]', '[3,"r1",[]]', '[4,"r1","X","y"]', '[4,"r1","X",1,{}]']) {
      const result = parseFrame(input, TYPES);
      assert.equal(result.ok, false, input);
      if (result.ok) continue;
      assert.equal(result.replyId, undefined, input);
      assert.equal(result.replyTo, 'r1', input);
    }
  });
});

describe('raw payload text (byte-transparent bridging)', () => {
  const payloadOf = (text: string): string | undefined => {
    const result = parseFrame(text, TYPES);
    return result.ok ? result.payloadText : 'not ok';
  };
  it('cuts the payload out of a CALL exactly as sent', () => {
    assert.equal(payloadOf('[2,"a","Heartbeat",{}]'), '{}');
    assert.equal(
      // The Action slot holds an escape (`\u0054` is T): a comma there is no action name any more.
      payloadOf(' [ 2 , "a\\"]," , "Data\\u0054ransfer" , {"x":[1,"]"],"y":1.0e3} ] '),
      '{"x":[1,"]"],"y":1.0e3}',
    );
    assert.equal(payloadOf('[2,"\\u0041",\n"Heartbeat",\n{"k":"\\u00e9"}\n]\n'), '{"k":"\\u00e9"}');
  });
  it('cuts the payload out of a CALLRESULT', () => {
    assert.equal(payloadOf('[3,"r1",{"status":"Accepted"}]'), '{"status":"Accepted"}');
  });
  it('gives none for CALLERROR', () => {
    assert.equal(payloadOf('[4,"e","GenericError","",{}]'), undefined);
  });
  it('yields valid JSON equal to the parsed payload for every shape it accepts', () => {
    const frames = ['[2,"a","B",{"n":[{"m":"]]"}],"s":"\\\\"}]', '[3, "x" ,{"deep":{"a":[[],{}]}}]'];
    for (const text of frames) {
      const result = parseFrame(text, TYPES);
      assert.ok(result.ok);
      if (!result.ok) continue;
      const payload = result.frame[0] === 2 ? result.frame[3] : result.frame[2];
      assert.deepEqual(JSON.parse(result.payloadText ?? 'null'), payload);
    }
  });
});

describe('values that may reach a topic (Action, UniqueId)', () => {
  it('answers a CALL whose Action is not letters and digits, under its id', () => {
    for (const action of ['Heart/beat', 'Heart#', 'Heart+', 'Heart beat', 'Heart\u0085', 'A'.repeat(65)]) {
      const result = parseFrame(JSON.stringify([2, 'a1', action, {}]), TYPES);
      assert.ok(!result.ok, action);
      if (result.ok) continue;
      assert.equal(result.error.code(V16), 'FormationViolation', action);
      assert.equal(result.replyId, 'a1', action);
    }
    for (const action of ['Heartbeat', 'Get15118EVCertificate', 'A'.repeat(64)]) {
      assert.equal(parseFrame(JSON.stringify([2, 'a1', action, {}]), TYPES).ok, true, action);
    }
  });

  it('answers a CALL whose UniqueId is unsafe in a topic under that id; a reply is only counted', () => {
    const unsafe = [
      'a/b',
      'a#',
      'a+',
      '\u0000',
      'a\u001f',
      'a\u007f',
      'a\u0085',
      'a\ufdd0',
      'a\ufffe',
      'a\u{1ffff}',
      'a\udc00',
    ];
    for (const id of unsafe) {
      const call = parseFrame(JSON.stringify([2, id, 'Heartbeat', {}]), TYPES);
      assert.ok(!call.ok && call.error.code(V16) === 'FormationViolation' && call.replyId === id, id);
      for (const reply of [
        [3, id, {}],
        [4, id, 'GenericError', '', {}],
      ]) {
        const result = parseFrame(JSON.stringify(reply), TYPES);
        // No replyTo either: an unsafe id cannot be one the gateway sent.
        assert.ok(!result.ok && result.replyId === undefined && result.replyTo === undefined, id);
      }
    }
    for (const id of ['a-b_c.d:e', '😀', 'é', '019b6a4e-3c5d-7000-8000-000000000000']) {
      assert.equal(parseFrame(JSON.stringify([2, id, 'Heartbeat', {}]), TYPES).ok, true, id);
    }
  });
});
