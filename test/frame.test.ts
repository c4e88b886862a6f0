import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFrame } from '../src/ocpp/frame.js';

const TYPES = [2, 3, 4];

describe('parseFrame (OCPP-J 1.6 §4)', () => {
  it('parses CALL, CALLRESULT and CALLERROR', () => {
    assert.deepEqual(parseFrame('[2,"a","Heartbeat",{}]', TYPES), {
      ok: true,
      frame: [2, 'a', 'Heartbeat', {}],
    });
    assert.deepEqual(parseFrame('[3,"a",{"x":1}]', TYPES), { ok: true, frame: [3, 'a', { x: 1 }] });
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
      assert.equal(result.error.errorCode, code);
      assert.equal(result.replyId, replyId);
      assert.deepEqual(result.error.toCallError('x')[4], {});
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
