import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckedIds, fingerprint } from '../../src/bridge/acked-ids.js';

const print = fingerprint('ocpp/cs/cp1', Buffer.from('[2,"u1","Reset",{}]'));
const other = fingerprint('ocpp/cs/cp1', Buffer.from('[2,"u2","Reset",{}]'));

describe('AckedIds', () => {
  it('tells the copy of a message acknowledged on this connection, on an earlier one, and a new message', () => {
    const acked = new AckedIds();
    acked.sent(7, print);
    acked.sent(65_535, print);
    assert.equal(
      acked.classify(7, () => print),
      'pending',
    );
    assert.equal(
      acked.classify(7, () => print),
      'new',
      'any PUBLISH under an id ends its entry',
    );
    acked.connected(true);
    assert.equal(
      acked.classify(65_535, () => print),
      'lost',
      'its PUBACK went with the old connection',
    );
    acked.sent(8, print);
    assert.equal(
      acked.classify(8, () => other),
      'new',
      'another message under the id',
    );
    assert.equal(
      acked.classify(9, () => print),
      'new',
      'never acknowledged',
    );
  });

  it('keeps earlier entries over several reconnects of one session, and none without the session', () => {
    const acked = new AckedIds();
    acked.sent(1, print);
    acked.connected(true);
    acked.sent(2, print);
    acked.connected(true);
    assert.deepEqual(
      [1, 2].map((id) => acked.classify(id, () => print)),
      ['lost', 'lost'],
    );
    acked.sent(3, print);
    acked.connected(false);
    assert.equal(
      acked.classify(3, () => print),
      'new',
    );
    acked.sent(3, print);
    acked.sent(3, other);
    assert.equal(
      acked.classify(3, () => other),
      'pending',
      'acknowledged again: the last message counts',
    );
  });
});
