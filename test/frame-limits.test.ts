import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChargePoint } from './harness/cp-client.js';
import { setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

/**
 * Issue 8 item 10, the frame parts, as documented in the README (Message rules, Frames):
 * uWS.js checks UTF-8 and its payload cap itself and drops the TCP connection without a close
 * frame (the station sees 1006); it has no hook to send 1007 or 1009 there. Between
 * OCPP_GW_MAX_FRAME_BYTES and twice that, the gateway closes with 1009 itself.
 */
const MAX = 1024;

describe('frame limits and invalid UTF-8 (real mosquitto)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_MAX_FRAME_BYTES: String(MAX) });
  });
  after(() => fx.teardown());

  /** A CALL frame of exactly `bytes` bytes. */
  const callOf = (bytes: number, id: string): string => {
    const bare = JSON.stringify([2, id, 'DataTransfer', { vendorId: 'v', data: '' }]);
    return JSON.stringify([2, id, 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(bytes - bare.length) }]);
  };

  async function closedWith(cid: string, send: (cp: ChargePoint) => void): Promise<number> {
    const cp = await fx.connect(cid);
    send(cp);
    const { code } = await cp.waitClose();
    const event = await fx.backend.waitFor(`ocpp/events/${cid}/disconnected`);
    assert.equal((event.json as { close_code: number }).close_code, code, 'disconnect event has the code');
    await sleep(100);
    assert.deepEqual(
      fx.backend.seen.filter((m) => m.topic.startsWith(`ocpp/cp/${cid}`)).map((m) => m.raw),
      [],
      'nothing of the frame published',
    );
    return code;
  }

  it(`handles a message of exactly ${MAX} bytes`, async () => {
    const cp = await fx.connect('f-max');
    const frame = callOf(MAX, 'at-max');
    assert.equal(Buffer.byteLength(frame), MAX);
    cp.send(frame);
    await fx.backend.waitFor('ocpp/cp/f-max', (j: { UniqueId?: string }) => j.UniqueId === 'at-max');
    cp.ws.terminate();
  });
  it(`closes ${MAX + 1} bytes with 1009 (RFC 6455 §7.4.1)`, async () => {
    assert.equal(await closedWith('f-over', (cp) => cp.send(callOf(MAX + 1, 'o'))), 1009);
  });
  it(`closes exactly twice the limit (${2 * MAX} bytes) with 1009`, async () => {
    assert.equal(await closedWith('f-double', (cp) => cp.send(callOf(2 * MAX, 'd'))), 1009);
  });
  it(`closes fragments adding up to ${2 * MAX} bytes with 1009`, async () => {
    const frame = Buffer.from(callOf(2 * MAX, 'fd'));
    const code = await closedWith('f-frag-double', (cp) => {
      cp.ws.send(frame.subarray(0, MAX), { fin: false });
      cp.ws.send(frame.subarray(MAX), { fin: true });
    });
    assert.equal(code, 1009);
  });
  it(`documented uWS cap: ${2 * MAX + 1} bytes drop the connection without a close frame (1006)`, async () => {
    assert.equal(await closedWith('f-cap', (cp) => cp.send(callOf(2 * MAX + 1, 'c'))), 1006);
  });
  it('documented uWS cap: fragments adding up past it drop the connection too (1006)', async () => {
    const frame = Buffer.from(callOf(2 * MAX + 1, 'fc'));
    const code = await closedWith('f-frag-cap', (cp) => {
      cp.ws.send(frame.subarray(0, MAX), { fin: false });
      cp.ws.send(frame.subarray(MAX), { fin: true });
    });
    assert.equal(code, 1006);
  });
  it('documented uWS behaviour: invalid UTF-8 in a text message drops the connection (1006, no 1007)', async () => {
    const code = await closedWith('f-utf8', (cp) => {
      cp.ws.send(Buffer.from([0x5b, 0x32, 0x2c, 0x22, 0xc3, 0x28, 0x22, 0x5d]), { binary: false });
    });
    assert.equal(code, 1006);
  });
  it('documented uWS behaviour: an encoded surrogate (CESU) is invalid UTF-8 too (1006)', async () => {
    const code = await closedWith('f-cesu', (cp) =>
      cp.ws.send(Buffer.from([0xed, 0xa0, 0x80]), { binary: false }),
    );
    assert.equal(code, 1006);
  });
  it('keeps serving other stations and the MQTT link', async () => {
    const cp = await fx.connect('f-after');
    cp.send([2, 'after', 'Heartbeat', {}]);
    await fx.backend.waitFor('ocpp/cp/f-after', (j: { UniqueId?: string }) => j.UniqueId === 'after');
    assert.equal((await fetch(`${fx.httpBase}/readyz`)).status, 200);
    cp.ws.terminate();
  });
});
