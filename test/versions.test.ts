import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFrame } from '../src/ocpp/frame.js';
import { OcppError } from '../src/ocpp/ocpp-error.js';
import { OCPP_PROBLEMS } from '../src/ocpp/problem.js';
import { KNOWN_ACTIONS, VERSIONS, isSupportedSubprotocol } from '../src/ocpp/versions/index.js';
import type { OcppVersion } from '../src/ocpp/versions/version.js';
import { V16 } from '../src/ocpp/versions/v16.js';

describe('version descriptors', () => {
  it('every registered version spells every neutral problem and knows its own actions', () => {
    for (const [subprotocol, version] of Object.entries(VERSIONS)) {
      assert.equal(version.subprotocol, subprotocol);
      assert.ok(isSupportedSubprotocol(subprotocol));
      for (const problem of OCPP_PROBLEMS) {
        assert.match(version.errorCodes[problem], /^[A-Za-z]+$/, `${subprotocol} ${problem}`);
      }
      for (const action of version.requiredActions) assert.ok(version.actions.has(action), action);
      for (const action of version.actions) assert.ok(KNOWN_ACTIONS.has(action), action);
    }
    // 2.0.1 and 2.1 are registered now; names that are no OCPP-J subprotocol still are not.
    assert.equal(isSupportedSubprotocol('ocpp2.0'), false);
    assert.equal(isSupportedSubprotocol('OCPP2.0.1'), false);
  });

  it('1.6 keeps its own spellings on the wire', () => {
    assert.equal(V16.errorCodes.unknown_type, 'NotImplemented');
    assert.equal(V16.errorCodes.occurrence, 'OccurenceConstraintViolation');
    assert.equal(V16.errorCodes.malformed, 'FormationViolation');
    assert.equal(V16.errorCodes.generic, 'GenericError');
  });

  it('the parser reports a neutral problem that the negotiated version spells', () => {
    // A descriptor spelled the 2.0.1 way (OCPP 2.0.1 Part 4 §4.3), to show nothing below it is 1.6's.
    const other: OcppVersion = {
      ...V16,
      subprotocol: 'test',
      errorCodes: {
        ...V16.errorCodes,
        unknown_type: 'MessageTypeNotSupported',
        malformed: 'FormatViolation',
      },
    };
    const unknownType = parseFrame('[7,"id",{}]', V16.messageTypes);
    assert.equal(unknownType.ok, false);
    if (unknownType.ok) return;
    assert.equal(unknownType.error.problem, 'unknown_type');
    assert.deepEqual(unknownType.error.toCallError('id', V16).slice(0, 3), [4, 'id', 'NotImplemented']);
    assert.deepEqual(unknownType.error.toCallError('id', other).slice(0, 3), [
      4,
      'id',
      'MessageTypeNotSupported',
    ]);
    assert.equal(new OcppError('malformed', 'x').code(other), 'FormatViolation');
  });

  it('applies the version UniqueId limit', () => {
    const id = 'x'.repeat(40);
    assert.equal(parseFrame(`[2,"${id}","Heartbeat",{}]`, V16.messageTypes, V16.maxUniqueIdLength).ok, true);
    const strict = parseFrame(`[2,"${id}","Heartbeat",{}]`, V16.messageTypes, 36);
    assert.equal(strict.ok, false);
    if (!strict.ok) assert.equal(strict.error.problem, 'bad_id');
  });
});
