import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentMap } from '../../src/io/recent-map.js';

describe('RecentMap: recent keys bounded in age and count (src/io/recent-map.ts)', () => {
  it('keeps a value for its TTL, then drops it when read', () => {
    let now = 0;
    const map = new RecentMap<number>(1_000, 10, () => now);
    map.set('a', 7);
    now = 1_000;
    assert.equal(map.get('a'), 7);
    now = 1_001;
    assert.equal(map.get('a'), undefined);
    assert.equal(map.size, 0);
  });

  it('forgets expired entries as new ones come, oldest first, and stops at the first live one', () => {
    let now = 0;
    const map = new RecentMap<string>(1_000, 10, () => now);
    map.set('old', 'x');
    now = 600;
    map.set('mid', 'y');
    now = 1_500;
    map.set('new', 'z');
    assert.equal(map.size, 2, "'old' expired and was dropped; 'mid' is live");
    assert.equal(map.get('mid'), 'y');
  });

  it('holds at most `max` entries, the oldest going first; setting a key again makes it the newest', () => {
    const map = new RecentMap<number>(60_000, 2, () => 0);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    map.set('c', 4);
    assert.equal(map.size, 2);
    assert.equal(map.get('b'), undefined, "'b' was the oldest once 'a' was set again");
    assert.equal(map.get('a'), 3);
    assert.equal(map.get('c'), 4);
  });

  it('take() returns the live value once and removes it', () => {
    let now = 0;
    const map = new RecentMap<number>(100, 10, () => now);
    map.set('k', 5);
    assert.equal(map.take('k'), 5);
    assert.equal(map.take('k'), undefined);
    map.set('e', 6);
    now = 101;
    assert.equal(map.take('e'), undefined, 'an expired value is not handed out');
    assert.equal(map.size, 0);
  });
});
