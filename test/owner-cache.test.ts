import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OwnerCache } from '../src/cluster/owner-cache.js';

describe('owner cache (routing node)', () => {
  const a = { nodeId: 'node-a', epoch: 'e1' };
  const b = { nodeId: 'node-b', epoch: 'e2' };

  it('remembers an owner for its TTL only', () => {
    let now = 1000;
    const cache = new OwnerCache(500, 10, () => now);
    cache.set('cp1', a);
    assert.deepEqual(cache.get('cp1'), a);
    now = 1499;
    assert.deepEqual(cache.get('cp1'), a);
    now = 1500;
    assert.equal(cache.get('cp1'), undefined);
    assert.equal(cache.size, 0, 'an expired entry is dropped when read');
  });

  it('stays within its bound, dropping the oldest entry', () => {
    const cache = new OwnerCache(60_000, 2);
    cache.set('cp1', a);
    cache.set('cp2', a);
    cache.set('cp1', b); // refreshed: now the newest
    cache.set('cp3', b);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('cp2'), undefined);
    assert.deepEqual(cache.get('cp1'), b);
    assert.deepEqual(cache.get('cp3'), b);
  });

  it('forgets one charge point, or everything a lost node owned', () => {
    const cache = new OwnerCache(60_000, 10);
    cache.set('cp1', a);
    cache.set('cp2', a);
    cache.set('cp3', b);
    cache.forget('cp3');
    assert.equal(cache.get('cp3'), undefined);
    cache.forgetNode('node-a');
    assert.equal(cache.size, 0);
  });

  it('can be turned off with a bound of 0', () => {
    const cache = new OwnerCache(60_000, 0);
    cache.set('cp1', a);
    assert.equal(cache.get('cp1'), undefined);
  });
});
