import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBasic } from '../../src/auth/basic-header.js';
import { FailureLimiter } from '../../src/auth/failure-limiter.js';
import { normaliseAddress, TrustedProxies } from '../../src/auth/forwarded.js';
import { canonicalSecret, hashSecret, matchSecret } from '../../src/auth/secret.js';
import { FakeClock } from '../harness/fake-clock.js';

/** Issue 10 items 1, 4 and 6: the pieces of station authentication, in process. */
describe('secrets', () => {
  const key = Buffer.from('00112233445566778899aabbccddeeff01020304', 'hex');

  it('a 1.6 key matches as raw bytes and as hex text in either case; the hash is salted', () => {
    const stored = hashSecret(Buffer.from(key.toString('hex').toUpperCase()));
    for (const form of [
      key,
      Buffer.from(key.toString('hex')),
      Buffer.from(key.toString('hex').toUpperCase()),
    ]) {
      assert.equal(matchSecret([stored], form), 0);
    }
    assert.notEqual(hashSecret(key).hash, hashSecret(key).hash, 'a fresh salt each time');
    assert.equal(matchSecret([stored], Buffer.from('00112233')), -1);
  });

  it('text that is not a 16-20 byte hex key is its own bytes', () => {
    assert.deepEqual(canonicalSecret(Buffer.from('abcdef')), Buffer.from('abcdef'));
    const password = Buffer.from('a-2.0.1-BasicAuthPassword');
    assert.equal(
      matchSecret([hashSecret(Buffer.from('other-password-123')), hashSecret(password)], password),
      1,
    );
  });
});

describe('parseBasic', () => {
  it('keeps the password as bytes and splits at the first colon', () => {
    const raw = Buffer.from([0xff, 0x00, 0x3a, 0x80]);
    const header = `Basic ${Buffer.concat([Buffer.from('CP1:'), raw]).toString('base64')}`;
    assert.deepEqual(parseBasic(header), { user: 'CP1', password: raw });
    assert.deepEqual(
      parseBasic(`basic   ${Buffer.from('a:b:c').toString('base64')}`)?.password,
      Buffer.from('b:c'),
    );
  });

  it('undefined for absent, other schemes, bad base64, no colon', () => {
    for (const header of [
      undefined,
      '',
      'Bearer abc',
      'Basic !!!',
      `Basic ${Buffer.from('nocolon').toString('base64')}`,
    ]) {
      assert.equal(parseBasic(header), undefined, String(header));
    }
  });
});

describe('TrustedProxies', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '::1']);
  const headers = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

  it('takes X-Forwarded-For and X-Forwarded-Proto from a trusted proxy, skipping trusted hops from the right', () => {
    const origin = proxies.origin(
      '10.1.2.3',
      headers({ 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.9.9.9', 'x-forwarded-proto': 'https' }),
      false,
    );
    assert.deepEqual(origin, { address: '203.0.113.9', viaTrustedProxy: true, tls: true });
  });

  it('ignores forwarding headers from anyone else', () => {
    const origin = proxies.origin(
      '192.0.2.1',
      headers({ 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'https' }),
      false,
    );
    assert.deepEqual(origin, { address: '192.0.2.1', viaTrustedProxy: false, tls: false });
  });

  it('reads IPv4-mapped IPv6 peers as IPv4', () => {
    assert.equal(normaliseAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(normaliseAddress('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
    assert.equal(proxies.trusts(normaliseAddress('::ffff:10.0.0.1')), true);
    assert.equal(proxies.trusts('::1'), true);
    assert.equal(new TrustedProxies([]).trusts('127.0.0.1'), false);
  });
});

describe('FailureLimiter', () => {
  it('blocks a key after `limit` failures until its window ends; a success forgets them', () => {
    const clock = new FakeClock();
    const limiter = new FailureLimiter(2, 1000, clock);
    limiter.fail('a');
    assert.equal(limiter.blocked('a'), false);
    limiter.fail('a');
    assert.equal(limiter.blocked('a'), true);
    assert.equal(limiter.blocked('b'), false);
    clock.advance(1000);
    assert.equal(limiter.blocked('a'), false);
    limiter.fail('b');
    limiter.succeed('b');
    limiter.fail('b');
    assert.equal(limiter.blocked('b'), false);
  });
});
