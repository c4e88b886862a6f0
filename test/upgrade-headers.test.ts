import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway } from './harness/gateway.js';
import { rawUpgrade } from './harness/raw-upgrade.js';
import type { Gateway } from '../src/gateway.js';

/** Issue 8 item 10: WebSocket version, repeated header lines. */

describe('Sec-WebSocket-Version (RFC 6455 §4.2.2, §4.4)', () => {
  let gw: { gateway: Gateway; stop: () => Promise<void> };
  let port: number;
  before(async () => {
    const started = await startGateway();
    gw = started;
    port = started.ports.wsPort;
  });
  after(() => gw.stop());

  for (const version of ['8', '12', '14', 'abc']) {
    it(`answers version ${version} with 426 and Sec-WebSocket-Version: 13`, async () => {
      const answer = await rawUpgrade(port, '/ocpp/v1', { version });
      assert.equal(answer.status, 426);
      assert.equal(answer.headers.get('sec-websocket-version'), '13');
      assert.equal(answer.headers.get('upgrade'), 'websocket');
      assert.equal(answer.body, 'unsupported_websocket_version');
    });
  }
  it('answers a request without the header with 426 too', async () => {
    const answer = await rawUpgrade(port, '/ocpp/v1', { version: null });
    assert.deepEqual([answer.status, answer.headers.get('sec-websocket-version')], [426, '13']);
  });
  it('upgrades version 13', async () => {
    const answer = await rawUpgrade(port, '/ocpp/v1', { version: '13' });
    answer.socket.destroy();
    assert.equal(answer.status, 101);
    assert.equal(answer.headers.get('sec-websocket-protocol'), 'ocpp1.6');
  });
  it('counts the refusals', async () => {
    const text = await gw.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_upgrades_total');
    assert.match(text, /outcome="rejected",reason="unsupported_websocket_version"} 5\b/);
  });
});

describe('repeated Sec-WebSocket-Protocol lines (RFC 7230 §3.2.2)', () => {
  let gw: { gateway: Gateway; stop: () => Promise<void> };
  let port: number;
  before(async () => {
    const started = await startGateway();
    gw = started;
    port = started.ports.wsPort;
  });
  after(() => gw.stop());

  it('sees an entry offered on the second line', async () => {
    const answer = await rawUpgrade(port, '/ocpp/p1', { protocolLines: ['ocpp2.0.1', 'ocpp1.6'] });
    answer.socket.destroy();
    assert.equal(answer.status, 101);
    assert.equal(answer.headers.get('sec-websocket-protocol'), 'ocpp1.6');
  });
  it('keeps the client order across lines', async () => {
    const answer = await rawUpgrade(port, '/ocpp/p2', { protocolLines: ['ocpp1.6', 'ocpp2.0.1, ocpp1.5'] });
    answer.socket.destroy();
    assert.equal(answer.headers.get('sec-websocket-protocol'), 'ocpp1.6');
  });
  it('still refuses when no line offers a supported entry', async () => {
    const answer = await rawUpgrade(port, '/ocpp/p3', { protocolLines: ['ocpp2.0.1', 'ocpp2.1'] });
    assert.deepEqual([answer.status, answer.body], [400, 'no_supported_subprotocol']);
  });
});
