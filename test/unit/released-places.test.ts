import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReleasedPlaces } from '../../src/cluster/released-places.js';
import { FakeClock } from '../harness/fake-clock.js';

describe('ReleasedPlaces', () => {
  it("gives a redelivered copy its original's place once, and nothing to a fresh message", () => {
    const places = new ReleasedPlaces(new FakeClock(), 1000, 10);
    places.hold('cp', 'c1', 7);
    assert.equal(places.placeOf('cp', 'c1', false), undefined, 'a fresh message reusing the id');
    assert.equal(places.placeOf('cp', 'c1', true), 7);
    assert.equal(places.placeOf('cp', 'c1', true), undefined, 'taken once');
    assert.equal(places.placeOf('other', 'c1', true), undefined);
  });

  it('forgets a place after its time, and the oldest beyond its cap', () => {
    const clock = new FakeClock();
    const places = new ReleasedPlaces(clock, 1000, 2);
    places.hold('cp', 'a', 1);
    clock.advance(1001);
    assert.equal(places.placeOf('cp', 'a', true), undefined, 'expired');
    for (const [id, seq] of [
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ] as const)
      places.hold('cp', id, seq);
    assert.equal(places.size, 2);
    assert.deepEqual(
      ['b', 'c', 'd'].map((id) => places.placeOf('cp', id, true)),
      [undefined, 3, 4],
    );
  });
});
