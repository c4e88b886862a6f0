import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setup, type Fixture } from './harness/fixture.js';

describe('backpressure: a charge point that stops reading', () => {
  let fx: Fixture;
  before(async () => {
    // The blobs below are one repeated letter: with permessage-deflate (which `ws` offers) they
    // would shrink a thousandfold and never fill the buffer.
    fx = await setup('mosquitto', { OCPP_GW_MAX_BACKPRESSURE_BYTES: '65536', OCPP_GW_COMPRESSION: 'off' });
  });
  after(() => fx.teardown());

  it('is closed once its send buffer passes OCPP_GW_MAX_BACKPRESSURE_BYTES, and what was not written is reported', async () => {
    const cp = await fx.connect('slow');
    // Stop reading at the TCP level: the kernel buffers fill, then uWS's buffer grows.
    (cp.ws as unknown as { _socket: Socket })._socket.pause();
    const blob = 'x'.repeat(100_000);
    for (let i = 0; i < 300; i++) {
      await fx.backend.publish(
        'ocpp/cs/slow',
        { MessageTypeId: 3, UniqueId: `big${i}`, Payload: { blob } },
        0,
      );
    }
    const off = await fx.backend.waitFor('ocpp/events/slow/disconnected', () => true, 15_000);
    assert.equal((off.json as { reason: string }).reason, 'backpressure');
    const dropped = await fx.backend.waitFor(
      'ocpp/gw/diagnostics',
      (j: { cid?: string; reason?: string }) => j.cid === 'slow' && j.reason === 'offline',
      5000,
    );
    assert.equal((dropped.json as { messageTypeId: number }).messageTypeId, 3);
    assert.equal(fx.gateway.sessions.lookup('slow'), undefined);
  });
});
