import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { decodeEnvelope, encodeEnvelope, type RouteEnvelope } from '../src/cluster/route-envelope.js';
import { fromWire, toWire } from '../src/cluster/route-deliver.js';
import type { DownstreamMessage } from '../src/ocpp/message.js';

/** The route bus's wire format (docs/architecture.md §5.4): every kind round-trips; anything else is rejected. */
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
    { v: 1, k: 'bye', from: 'node-c', quiesced: true },
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
      { v: 1, k: 'bye', from: 'n', quiesced: 'yes' },
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

  // Bytes as envelope v1 has been encoded since it was introduced (msgpackr, useRecords false):
  // a node of the previous release sends exactly these, so a rolling upgrade depends on them.
  const V1_DELIVER_CALL = Buffer.from(
    'de0008a17601a16ba764656c69766572a466726f6da66e6f64652d61a372656607a3636964a3435031a565706f6368a26531' +
      'a3647570c2a36d7367de0004a47479706502a8756e697175654964a27531a6616374696f6ea55265736574a77061796c6f6164' +
      'de0001a474797065a4536f6674',
    'hex',
  );
  const V1_DELIVER_ERROR = Buffer.from(
    'de0008a17601a16ba764656c69766572a466726f6da66e6f64652d61a372656608a3636964a3435031a565706f6368a26531' +
      'a3647570c3a36d7367de0005a47479706504a8756e697175654964a27532a96572726f72436f6465ac47656e657269634572726f72' +
      'b06572726f724465736372697074696f6ea178ac6572726f7244657461696c73de0001a16b01',
    'hex',
  );
  const call: DownstreamMessage = { type: 2, uniqueId: 'u1', action: 'Reset', payload: { type: 'Soft' } };
  const callError: DownstreamMessage = {
    type: 4,
    uniqueId: 'u2',
    errorCode: 'GenericError',
    errorDescription: 'x',
    errorDetails: { k: 1 },
  };
  const deliver = (ref: number, dup: boolean, message: DownstreamMessage): RouteEnvelope => ({
    v: 1,
    k: 'deliver',
    from: 'node-a',
    ref,
    cid: 'CP1',
    epoch: 'e1',
    dup,
    msg: toWire(message),
  });

  it('decodes a v1 deliver envelope as the previous release encodes it, and encodes the same bytes', () => {
    const decoded = decodeEnvelope(V1_DELIVER_CALL);
    assert.ok(decoded.ok);
    assert.equal(decoded.envelope.k, 'deliver');
    if (decoded.envelope.k === 'deliver') assert.deepEqual(fromWire(decoded.envelope.msg), call);
    assert.equal(encodeEnvelope(deliver(7, false, call)).toString('hex'), V1_DELIVER_CALL.toString('hex'));
    const decodedError = decodeEnvelope(V1_DELIVER_ERROR);
    assert.ok(decodedError.ok);
    if (decodedError.envelope.k === 'deliver')
      assert.deepEqual(fromWire(decodedError.envelope.msg), callError);
    assert.equal(
      encodeEnvelope(deliver(8, true, callError)).toString('hex'),
      V1_DELIVER_ERROR.toString('hex'),
    );
  });

  it('rejects a deliver envelope missing or mistyping any field, with reason shape', () => {
    const packr = new Packr({ useRecords: false });
    const result: DownstreamMessage = { type: 3, uniqueId: 'u3', payload: {} };
    const wrong: Record<string, unknown> = {
      ref: 'x',
      cid: 1,
      epoch: null,
      dup: 'yes',
      msg: 'm',
      type: 7,
      uniqueId: 5,
      action: {},
      payload: [],
      errorCode: 1,
      errorDescription: false,
      errorDetails: 'd',
    };
    let cases = 0;
    for (const message of [call, result, callError]) {
      const envelope = deliver(1, false, message) as unknown as Record<string, unknown>;
      const msg = envelope.msg as Record<string, unknown>;
      for (const field of ['ref', 'cid', 'epoch', 'dup', 'msg']) {
        for (const value of [undefined, wrong[field]]) {
          const changed = { ...envelope, [field]: value };
          if (value === undefined) delete changed[field];
          assert.deepEqual(
            decodeEnvelope(packr.pack(changed)),
            { ok: false, reason: 'shape' },
            `${field}=${String(value)}`,
          );
          cases += 1;
        }
      }
      for (const field of Object.keys(msg)) {
        for (const value of [undefined, wrong[field]]) {
          const changedMsg = { ...msg, [field]: value };
          if (value === undefined) delete changedMsg[field];
          const label = `type ${message.type} msg.${field}=${String(value)}`;
          assert.deepEqual(
            decodeEnvelope(packr.pack({ ...envelope, msg: changedMsg })),
            { ok: false, reason: 'shape' },
            label,
          );
          cases += 1;
        }
      }
    }
    assert.equal(cases, 3 * 10 + 2 * (4 + 3 + 5));
  });
});
