import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourcePorts, isPortError } from '../../bench/lib/source-ports.js';

test('source ports: handed out in turn, a held one skipped, a given-back one reused after the wrap', () => {
  const ports = new SourcePorts(100, 103);
  assert.deepEqual([ports.take(), ports.take(), ports.take()], [100, 101, 102]);
  ports.give(101);
  assert.equal(ports.take(), 103);
  assert.equal(ports.take(), 101, 'wraps to the low end and skips 100, still held');
  assert.equal(ports.size, 4);
  assert.equal(ports.take(), undefined, 'every port held');
  ports.give(102);
  assert.equal(ports.take(), 102);
});

test('source ports: a range that is not one is refused', () => {
  assert.throws(() => new SourcePorts(0, 10), RangeError);
  assert.throws(() => new SourcePorts(200, 100), RangeError);
  assert.throws(() => new SourcePorts(100, 70_000), RangeError);
});

test('source ports: only a port failure is worth another port', () => {
  assert.equal(isPortError(Object.assign(new Error('x'), { code: 'EADDRINUSE' })), true);
  assert.equal(isPortError(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' })), true);
  assert.equal(isPortError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), false);
  assert.equal(isPortError(new Error('socket hang up')), false);
  assert.equal(isPortError(undefined), false);
});
