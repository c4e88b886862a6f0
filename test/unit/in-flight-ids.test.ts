import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightIds } from '../../src/bridge/in-flight-ids.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('InFlightIds (bridge/in-flight-ids.ts)', () => {
  it('a PUBLISH with the id, topic and payload of a message in flight is its copy', () => {
    const ids = new InFlightIds();
    ids.add(7, 'ocpp/cs/a', b('c1'));
    assert.equal(ids.isCopy(7, 'ocpp/cs/a', b('c1')), true);
  });

  it('another message under an id in flight is a new message (a broker reusing the id)', () => {
    const ids = new InFlightIds();
    ids.add(7, 'ocpp/cs/a', b('c1'));
    assert.equal(ids.isCopy(7, 'ocpp/cs/a', b('c2')), false);
    assert.equal(ids.isCopy(7, 'ocpp/cs/b', b('c1')), false);
    assert.equal(ids.isCopy(8, 'ocpp/cs/a', b('c1')), false);
    assert.equal(ids.has(7), true);
  });

  it('keeps several messages under one id, each removed on its own', () => {
    const ids = new InFlightIds();
    const first = ids.add(7, 'ocpp/cs/a', b('c1'));
    const second = ids.add(7, 'ocpp/cs/b', b('c2'));
    const third = ids.add(7, 'ocpp/cs/c', b('c3'));
    ids.remove(second);
    assert.equal(ids.isCopy(7, 'ocpp/cs/b', b('c2')), false);
    assert.equal(ids.isCopy(7, 'ocpp/cs/a', b('c1')), true);
    assert.equal(ids.isCopy(7, 'ocpp/cs/c', b('c3')), true);
    ids.remove(first);
    ids.remove(first); // twice: nothing else goes
    assert.equal(ids.isCopy(7, 'ocpp/cs/c', b('c3')), true);
    ids.remove(third);
    assert.equal(ids.has(7), false);
  });

  it('forgets everything on clear (a new broker session)', () => {
    const ids = new InFlightIds();
    ids.add(1, 't', b('x'));
    ids.clear();
    assert.equal(ids.has(1), false);
  });
});
