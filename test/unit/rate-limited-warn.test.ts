import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../src/observability/logger.js';
import { RateLimitedWarn } from '../../src/observability/rate-limited-warn.js';

describe('RateLimitedWarn', () => {
  it('logs the first occurrence at once, then one line per interval with the count since the last', () => {
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const log = {
      warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
    } as unknown as Logger;
    let now = 1000;
    const warn = new RateLimitedWarn(log, 'redis down', 10_000, () => now);
    const err = new Error('ECONNREFUSED');
    warn.note(err, { cpId: 'a' });
    for (let i = 0; i < 99; i++) warn.note(err);
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0], { fields: { cpId: 'a', err, occurrences: 1 }, message: 'redis down' });
    now += 10_000;
    warn.note(err);
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.fields.occurrences, 100);
    assert.equal(lines[1]?.fields.err, err);
  });
});
