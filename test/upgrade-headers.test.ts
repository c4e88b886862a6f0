import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnGateway, startGateway, type GatewayProcess } from './harness/gateway.js';
import { rawUpgrade, sendRaw, upgradeRequest } from './harness/raw-upgrade.js';
import type { Gateway } from '../src/gateway/gateway.js';

/** Issue 8 item 10: WebSocket version, repeated header lines, the request-head size limit. */

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
    // A 1.6-only node, so 2.0.1 and 2.1 are offers it must skip.
    const started = await startGateway({ OCPP_GW_SUBPROTOCOLS: 'ocpp1.6' });
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

/** A request head (request line, header lines, blank line) of exactly `bytes` bytes. */
function headOf(bytes: number, target = '/ocpp/h1'): Buffer {
  const bare = upgradeRequest(target, { extraLines: ['X-Pad: '] }).length;
  const padded = upgradeRequest(target, { extraLines: [`X-Pad: ${'p'.repeat(bytes - bare)}`] });
  assert.equal(padded.length, bytes);
  return padded;
}

describe('request-head size limit (OCPP_GW_MAX_HEADER_BYTES)', () => {
  let defaults: GatewayProcess;
  let small: GatewayProcess;
  before(async () => {
    [defaults, small] = await Promise.all([
      spawnGateway({}),
      spawnGateway({ OCPP_GW_MAX_HEADER_BYTES: '2048', OCPP_GW_NODE_ID: 'small-heads' }),
    ]);
  });
  after(async () => {
    await Promise.all([defaults.stop(), small.stop()]);
  });

  it('applies the limit to uWS before it loads (logged at listen)', () => {
    assert.match(defaults.stdout(), /"msg":"OCPP WebSocket listener open"/);
    assert.match(defaults.stdout(), /"maxHeaderBytes":16384/);
    assert.match(small.stdout(), /"maxHeaderBytes":2048/);
    assert.doesNotMatch(defaults.stdout() + small.stdout(), /another header limit/);
  });
  it('upgrades a station with a 10 KB Authorization header by default', async () => {
    const token = Buffer.alloc(7500, 7).toString('base64');
    const answer = await rawUpgrade(defaults.ports.wsPort, '/ocpp/auth1', {
      extraLines: [`Authorization: Basic ${token}`],
    });
    answer.socket.destroy();
    assert.equal(answer.status, 101);
  });
  it('default 16384: a head of exactly 16384 bytes upgrades, one of 16385 gets 431', async () => {
    const fits = await sendRaw(defaults.ports.wsPort, headOf(16_384));
    fits.socket.destroy();
    assert.equal(fits.status, 101);
    assert.equal((await sendRaw(defaults.ports.wsPort, headOf(16_385))).status, 431);
  });
  it('2048: a head of exactly 2048 bytes upgrades, one of 2049 gets 431', async () => {
    const fits = await sendRaw(small.ports.wsPort, headOf(2048));
    fits.socket.destroy();
    assert.equal(fits.status, 101);
    assert.equal((await sendRaw(small.ports.wsPort, headOf(2049))).status, 431);
  });
  it('the same when the head arrives in pieces', async () => {
    const [fits, over] = [headOf(2048), headOf(2049)];
    for (const [head, status] of [
      [fits, 101],
      [over, 431],
    ] as const) {
      const answer = await sendRaw(small.ports.wsPort, [head.subarray(0, 100), head.subarray(100)]);
      answer.socket.destroy();
      assert.equal(answer.status, status);
    }
  });
  it('at most 98 header lines (fixed in the uWS build): 98 upgrade, 99 get 431', async () => {
    // upgradeRequest writes 6 lines (Host, Upgrade, Connection, Key, Version, Protocol).
    const lines = (n: number) => Array.from({ length: n - 6 }, (_, i) => `X-H${i}: v`);
    const fits = await rawUpgrade(defaults.ports.wsPort, '/ocpp/lines', { extraLines: lines(98) });
    fits.socket.destroy();
    assert.equal(fits.status, 101);
    const over = await rawUpgrade(defaults.ports.wsPort, '/ocpp/lines', { extraLines: lines(99) });
    assert.equal(over.status, 431);
  });
});
