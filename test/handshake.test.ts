import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkHandshake, pickSubprotocol } from '../src/edge/handshake.js';
import { tryUpgrade } from './harness/cp-client.js';
import { startGateway } from './harness/gateway.js';
import type { Gateway } from '../src/gateway/gateway.js';

const RULES = { path: '/ocpp', subprotocols: ['ocpp1.6' as const], requireSubprotocol: true };

describe('handshake rules (pure)', () => {
  it('percent-decodes the id', () => {
    assert.deepEqual(checkHandshake('/ocpp/CP%20001', 'ocpp1.6', RULES), {
      ok: true,
      cid: 'CP 001',
      subprotocol: 'ocpp1.6',
      echoProtocol: true,
    });
  });
  it('picks in the client order', () => {
    assert.equal(pickSubprotocol('ocpp2.0.1, ocpp1.6', ['ocpp1.6']), 'ocpp1.6');
    assert.equal(pickSubprotocol('OCPP1.6', ['ocpp1.6']), undefined);
  });
  it('counts the 48-character limit in characters, not bytes', () => {
    assert.equal(checkHandshake(`/ocpp/${encodeURIComponent('é'.repeat(48))}`, 'ocpp1.6', RULES).ok, true);
    assert.equal(checkHandshake(`/ocpp/${'a'.repeat(49)}`, 'ocpp1.6', RULES).ok, false);
  });
});

describe('WebSocket upgrade over a real socket', () => {
  let gw: { gateway: Gateway; stop: () => Promise<void> };
  let base: string;
  let lenient: { gateway: Gateway; stop: () => Promise<void> };
  let lenientBase: string;
  before(async () => {
    const started = await startGateway();
    gw = started;
    base = `ws://127.0.0.1:${started.ports.wsPort}`;
    const second = await startGateway({ OCPP_GW_REQUIRE_SUBPROTOCOL: 'false', OCPP_GW_PATH: '/ocpp2' });
    lenient = second;
    lenientBase = `ws://127.0.0.1:${second.ports.wsPort}`;
  });
  after(async () => {
    await gw.stop();
    await lenient.stop();
  });

  it('accepts and echoes ocpp1.6', async () => {
    assert.deepEqual(await tryUpgrade(`${base}/ocpp/client1`), {
      status: 101,
      protocol: 'ocpp1.6',
      body: '',
    });
  });
  it('prefers the first supported entry of the client list', async () => {
    const result = await tryUpgrade(`${base}/ocpp/client1`, ['ocpp2.0.1', 'ocpp1.6']);
    assert.equal(result.protocol, 'ocpp1.6');
  });

  const rejected: Array<[string, number, string]> = [
    ['/ocpp/', 400, 'clientid_cannot_be_empty'],
    ['/ocpp', 400, 'clientid_cannot_be_empty'],
    ['/ocpp/a+b', 400, 'unsupported_clientid'],
    ['/ocpp/a%23b', 400, 'unsupported_clientid'],
    ['/ocpp/a%2Fb', 400, 'unsupported_clientid'],
    ['/ocpp/a/b', 400, 'unsupported_clientid'],
    ['/ocpp/a%00b', 400, 'unsupported_clientid'],
    ['/ocpp/a%07b', 400, 'unsupported_clientid'],
    ['/ocpp/a%7Fb', 400, 'unsupported_clientid'],
    ['/ocpp/a%zzb', 400, 'bad_percent_encoding'],
    [`/ocpp/${'x'.repeat(49)}`, 400, 'clientid_too_long'],
    ['/foo/CP1', 404, 'not_found'],
  ];
  for (const [path, status, body] of rejected) {
    it(`rejects ${path.slice(0, 30)} with ${status} ${body}`, async () => {
      const result = await tryUpgrade(base + path);
      assert.equal(result.status, status);
      assert.equal(result.body, body);
    });
  }
  it('accepts an id of exactly 48 characters', async () => {
    assert.equal((await tryUpgrade(`${base}/ocpp/${'x'.repeat(48)}`)).status, 101);
  });
  it('rejects an unsupported subprotocol with 400', async () => {
    assert.deepEqual(await tryUpgrade(`${base}/ocpp/c1`, ['ocpp2.0.1']), {
      status: 400,
      protocol: '',
      body: 'no_supported_subprotocol',
    });
  });
  it('rejects a missing subprotocol with 400 by default', async () => {
    assert.deepEqual(await tryUpgrade(`${base}/ocpp/c1`, []), {
      status: 400,
      protocol: '',
      body: 'no_subprotocol',
    });
  });
  it('with OCPP_GW_REQUIRE_SUBPROTOCOL=false accepts without echoing a protocol (RFC 6455 §4.1)', async () => {
    assert.deepEqual(await tryUpgrade(`${lenientBase}/ocpp2/c1`, []), {
      status: 101,
      protocol: '',
      body: '',
    });
  });
  it('serves the configured path only', async () => {
    assert.equal((await tryUpgrade(`${lenientBase}/ocpp/c1`)).status, 404);
  });
  it('answers a plain GET on the OCPP path with 426', async () => {
    const res = await fetch(`${base.replace('ws:', 'http:')}/ocpp/c1`);
    assert.equal(res.status, 426);
  });
  it('counts rejections by reason', async () => {
    const text = await gw.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_upgrades_total');
    assert.match(text, /outcome="rejected",reason="unsupported_clientid"} [1-9]/);
  });
});
