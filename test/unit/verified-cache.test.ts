import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerifiedCache } from '../../src/auth/verified-cache.js';
import { FakeClock } from '../harness/fake-clock.js';

/**
 * The verified-credential cache (issue 10 item 1) with a fake clock: an entry whose station never
 * authenticates again must not stay until the size bound pushes it out.
 */
describe('VerifiedCache', () => {
  const digest = VerifiedCache.digest(Buffer.from('a-2.0.1-BasicAuthPassword'));

  it('expired entries of stations that never come back leave on the next set or get', () => {
    const clock = new FakeClock();
    const cache = new VerifiedCache(1000, clock);
    for (let i = 0; i < 100; i++) cache.set(`cp-${i}`, digest, 1);
    assert.equal(cache.size, 100);
    clock.advance(1000);
    cache.set('cp-new', digest, 2);
    assert.equal(cache.size, 1);
    assert.equal(cache.get('cp-new', digest), 2);
    for (let i = 0; i < 100; i++) cache.set(`cp-${i}`, digest, 1);
    clock.advance(1000);
    assert.equal(cache.get('unknown', digest), undefined);
    assert.equal(cache.size, 0);
    assert.equal(clock.liveTimers, 0);
  });

  it('a fresh entry stays and answers; only the expired ones before it go', () => {
    const clock = new FakeClock();
    const cache = new VerifiedCache(1000, clock);
    cache.set('old', digest, 1);
    clock.advance(600);
    cache.set('fresh', digest, 3);
    clock.advance(600);
    cache.set('new', digest, 2);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('old', digest), undefined);
    assert.equal(cache.get('fresh', digest), 3);
    assert.equal(cache.get('fresh', VerifiedCache.digest(Buffer.from('another-secret'))), undefined);
  });

  it('one call removes a bounded number of expired entries; the next calls remove the rest', () => {
    const clock = new FakeClock();
    const cache = new VerifiedCache(1000, clock);
    for (let i = 0; i < 5000; i++) cache.set(`cp-${i}`, digest, 1);
    clock.advance(1000);
    cache.set('cp-new', digest, 1);
    assert.ok(cache.size > 1 && cache.size < 5001, `${cache.size} left after one call`);
    for (let i = 0; i < 100 && cache.size > 1; i++) cache.get('unknown', digest);
    assert.equal(cache.size, 1);
  });

  it('keeps at most 200,000 entries, the oldest leaving first', () => {
    const clock = new FakeClock();
    const cache = new VerifiedCache(60_000, clock);
    for (let i = 0; i <= 200_000; i++) cache.set(`cp-${i}`, digest, 1);
    assert.equal(cache.size, 200_000);
    assert.equal(cache.get('cp-0', digest), undefined);
    assert.equal(cache.get('cp-1', digest), 1);
    assert.equal(cache.get('cp-200000', digest), 1);
  });
});
