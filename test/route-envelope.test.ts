import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { decodeEnvelope, encodeEnvelope, type RouteEnvelope } from '../src/cluster/route-envelope.js';

/** The route bus's wire format (DESIGN §4): every kind round-trips; anything else is rejected. */
describe('route envelopes (msgpackr, versioned)', () => {
  const samples: RouteEnvelope[] = [
    {
      v: 1,
      k: 'deliver',
      from: 'node-a',
      ref: 42,
      cid: 'CP 1/é',
      epoch: 'lq2x.1',
      dup: true,
      msg: { type: 2, uniqueId: 'u1', action: 'Reset', payload: { type: 'Soft' } },
    },
    {
      v: 1,
      k: 'deliver',
      from: 'node-a',
      ref: 43,
      cid: 'CP2',
      epoch: 'e',
      dup: false,
      msg: { type: 4, uniqueId: 'u2', errorCode: 'GenericError', errorDescription: 'x', errorDetails: {} },
    },
    { v: 1, k: 'reply', from: 'node-b', ref: 42, outcome: 'done' },
    { v: 1, k: 'reply', from: 'node-b', ref: 43, outcome: 'stale' },
    { v: 1, k: 'takeover', from: 'node-b', cid: 'CP1', epoch: 'old' },
    { v: 1, k: 'kick', from: 'node-c', cid: 'CP1' },
    { v: 1, k: 'bye', from: 'node-c' },
  ];

  it('round-trips every kind', () => {
    for (const envelope of samples) {
      assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope)), { ok: true, envelope });
    }
  });

  it('rejects bytes that are not msgpack', () => {
    assert.deepEqual(decodeEnvelope(Buffer.from([0x81, 0xa1])), { ok: false, reason: 'undecodable' });
    assert.deepEqual(decodeEnvelope(Buffer.from([0x92])), { ok: false, reason: 'undecodable' });
  });

  it('rejects another version, so a rolling upgrade cannot misread a changed shape', () => {
    const packr = new Packr({ useRecords: false });
    const v2 = packr.pack({ v: 2, k: 'bye', from: 'node-x' });
    assert.deepEqual(decodeEnvelope(v2), { ok: false, reason: 'version' });
  });

  it('rejects envelopes missing what their handler relies on', () => {
    const packr = new Packr({ useRecords: false });
    const bad = [
      'plain string',
      { v: 1, k: 'bye' },
      { v: 1, k: 'reply', from: 'n', ref: 1, outcome: 'maybe' },
      { v: 1, k: 'deliver', from: 'n', ref: 1, cid: 'c', epoch: 'e', dup: false, msg: { type: 9 } },
      {
        v: 1,
        k: 'deliver',
        from: 'n',
        ref: '1',
        cid: 'c',
        epoch: 'e',
        dup: false,
        msg: { type: 2, uniqueId: 'u' },
      },
      { v: 1, k: 'takeover', from: 'n', cid: 'c' },
      { v: 1, k: 'subscribe', from: 'n' },
    ];
    for (const value of bad) {
      assert.deepEqual(
        decodeEnvelope(packr.pack(value)),
        { ok: false, reason: 'shape' },
        JSON.stringify(value),
      );
    }
  });
});
