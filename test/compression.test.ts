import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/index.js';
import { UWS_COMPRESS_OPTIONS, uwsCompression } from '../src/edge/compression.js';
import { loadUws } from '../src/edge/uws.js';
import { setup, type Fixture } from './harness/fixture.js';

/** Opens a 2.0.1 station socket, offering permessage-deflate or not (RFC 7692 §5). */
function open(url: string, deflate: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // threshold 0: `ws` compresses every message it sends once deflate is negotiated.
    const ws = new WebSocket(url, ['ocpp2.0.1'], { perMessageDeflate: deflate ? { threshold: 0 } : false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
}

describe('OCPP_GW_COMPRESSION', () => {
  it('spells the uWS option bits as the loaded uWS defines them', async () => {
    const uws = (await loadUws()) as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(UWS_COMPRESS_OPTIONS)) assert.equal(uws[name], value, name);
    assert.equal(uwsCompression('off'), 0);
    assert.equal(loadConfig({}).compression, 'shared');
    assert.throws(() => loadConfig({ OCPP_GW_COMPRESSION: 'always' }), /OCPP_GW_COMPRESSION/);
  });

  for (const mode of ['off', 'shared', 'dedicated'] as const) {
    describe(`${mode}`, () => {
      let fx: Fixture;
      before(async () => {
        fx = await setup('embedded', { OCPP_GW_COMPRESSION: mode });
      });
      after(() => fx.teardown());

      it(`${mode === 'off' ? 'never negotiates' : 'negotiates'} permessage-deflate with a station that offers it`, async () => {
        const ws = await open(`${fx.wsBase}z-${mode}-on`, true);
        assert.equal(ws.protocol, 'ocpp2.0.1');
        if (mode === 'off') assert.equal(ws.extensions, '');
        else assert.match(ws.extensions, /^permessage-deflate/);
        ws.terminate();
      });

      it('does not negotiate it with a station that does not offer it', async () => {
        const ws = await open(`${fx.wsBase}z-${mode}-off`, false);
        assert.equal(ws.extensions, '');
        ws.terminate();
      });

      it("bridges a compressed station's traffic unchanged, both ways", async () => {
        const cid = `z-${mode}-traffic`;
        const ws = await open(`${fx.wsBase}${cid}`, true);
        // Larger than a deflate block and full of repeats, so compression really changes the bytes.
        const payload = `{"vendorId":"Acme","messageId":"m","data":"${'0123456789'.repeat(300)}é€"}`;
        ws.send(`[2,"up-1","DataTransfer",${payload}]`);
        const up = await fx.backend.waitFor(`ocpp/cp/${cid}`);
        assert.equal(
          up.raw,
          `{"MessageTypeId":2,"UniqueId":"up-1","Action":"DataTransfer","Payload":${payload}}`,
        );
        const answer = { status: 'Accepted', data: 'x'.repeat(5000) };
        const written = nextMessage(ws);
        await fx.backend.publish(`ocpp/cs/${cid}`, { MessageTypeId: 3, UniqueId: 'up-1', Payload: answer });
        assert.equal(await written, JSON.stringify([3, 'up-1', answer]));
        ws.terminate();
      });
    });
  }
});
