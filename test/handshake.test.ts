import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkHandshake, checkUpgrade, combineHeaderLines, pickSubprotocol } from '../src/edge/handshake.js';
import { isTopicSafe } from '../src/ocpp/identifiers.js';
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

describe('topic-safe ids (pure)', () => {
  it('accepts ordinary ids, including non-ASCII letters, emoji, U+FEFF and U+FFFD', () => {
    for (const id of [
      'CP001',
      'CP 001',
      'é'.repeat(48),
      'ladestation-ü',
      '\u{1F50C}',
      '\uFEFF',
      '\uFFFD',
      '\u00A0',
    ]) {
      assert.equal(isTopicSafe(id), true, JSON.stringify(id));
    }
  });
  it('refuses / + # and every \\p{Cc}: C0, DEL, C1', () => {
    for (const c of ['/', '+', '#']) assert.equal(isTopicSafe(`a${c}b`), false, c);
    const controls = [
      ...Array.from({ length: 0x20 }, (_, i) => i),
      ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
    ];
    assert.equal(controls.length, 65);
    for (const cp of controls)
      assert.equal(isTopicSafe(`a${String.fromCodePoint(cp)}b`), false, cp.toString(16));
    assert.equal(isTopicSafe('a\u00A0b'), true, 'U+00A0 follows the C1 block and is allowed');
  });
  it('refuses all 66 noncharacters: U+FDD0-U+FDEF and U+nFFFE/U+nFFFF in all 17 planes', () => {
    const nonchars = Array.from({ length: 32 }, (_, i) => 0xfdd0 + i);
    for (let plane = 0; plane <= 0x10; plane++)
      nonchars.push(plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff);
    assert.equal(nonchars.length, 66);
    for (const cp of nonchars) assert.equal(isTopicSafe(String.fromCodePoint(cp)), false, cp.toString(16));
    for (const cp of [0xfdcf, 0xfdf0, 0xfffd, 0x1fffd, 0x10000]) {
      assert.equal(isTopicSafe(String.fromCodePoint(cp)), true, cp.toString(16));
    }
  });
  it('refuses unpaired surrogates and accepts paired ones', () => {
    assert.equal(isTopicSafe('a\uD800b'), false);
    assert.equal(isTopicSafe('a\uDC00'), false);
    assert.equal(isTopicSafe('\uDBFF'), false);
    assert.equal(isTopicSafe('\uD83D\uDD0C'), true);
  });
  it('checkHandshake answers the issue 8 ids with unsupported_clientid', () => {
    for (const path of ['/ocpp/c1%C2%85b', '/ocpp/%EF%BF%BF', '/ocpp/%EF%B7%90']) {
      assert.deepEqual(checkHandshake(path, 'ocpp1.6', RULES), {
        ok: false,
        status: 400,
        reason: 'unsupported_clientid',
      });
    }
    // decodeURIComponent refuses an encoded lone surrogate (WTF-8) before the id rule sees it.
    assert.equal(
      (checkHandshake('/ocpp/%ED%A0%80', 'ocpp1.6', RULES) as { reason: string }).reason,
      'bad_percent_encoding',
    );
    // A lone surrogate can still reach the rule as a JavaScript string.
    assert.equal(
      (checkHandshake('/ocpp/a\uD800', 'ocpp1.6', RULES) as { reason: string }).reason,
      'unsupported_clientid',
    );
  });
});

describe('upgrade request rules (pure)', () => {
  const request = (lines: Array<[string, string]>) => ({
    url: '/ocpp/c1',
    headers: combineHeaderLines(lines),
  });
  it('combines repeated header lines in order (RFC 7230 §3.2.2)', () => {
    const headers = combineHeaderLines([
      ['sec-websocket-protocol', 'ocpp2.0.1'],
      ['Sec-WebSocket-Protocol', 'ocpp1.6'],
      ['host', 'h'],
    ]);
    assert.equal(headers.get('sec-websocket-protocol'), 'ocpp2.0.1, ocpp1.6');
    assert.equal(headers.get('host'), 'h');
  });
  it('picks a subprotocol offered on a second header line', () => {
    const verdict = checkUpgrade(
      request([
        ['sec-websocket-version', '13'],
        ['sec-websocket-protocol', 'ocpp2.0.1'],
        ['sec-websocket-protocol', 'ocpp1.6'],
      ]),
      RULES,
    );
    assert.deepEqual(verdict, { ok: true, cid: 'c1', subprotocol: 'ocpp1.6', echoProtocol: true });
  });
  it('answers a version other than 13, or none, with 426 (RFC 6455 §4.4)', () => {
    for (const version of ['8', '12', '14', '13, 8', '']) {
      const verdict = checkUpgrade(
        request([
          ['sec-websocket-version', version],
          ['sec-websocket-protocol', 'ocpp1.6'],
        ]),
        RULES,
      );
      assert.deepEqual(verdict, { ok: false, status: 426, reason: 'unsupported_websocket_version' }, version);
    }
    const none = checkUpgrade(request([['sec-websocket-protocol', 'ocpp1.6']]), RULES);
    assert.equal(none.ok ? 0 : none.status, 426);
  });
  it('treats an offer of only empty entries as no subprotocol', () => {
    const verdict = checkUpgrade(
      request([
        ['sec-websocket-version', '13'],
        ['sec-websocket-protocol', ''],
        ['sec-websocket-protocol', ' '],
      ]),
      RULES,
    );
    assert.deepEqual(verdict, { ok: false, status: 400, reason: 'no_subprotocol' });
  });
});

describe('WebSocket upgrade over a real socket', () => {
  let gw: { gateway: Gateway; stop: () => Promise<void> };
  let base: string;
  let lenient: { gateway: Gateway; stop: () => Promise<void> };
  let lenientBase: string;
  before(async () => {
    // A node that accepts 1.6 only, so 2.0.1 is an unsupported offer here (test/versions-2x.test.ts
    // covers a node with the default list).
    const started = await startGateway({ OCPP_GW_SUBPROTOCOLS: 'ocpp1.6' });
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
    ['/ocpp/c1%C2%85b', 400, 'unsupported_clientid'],
    ['/ocpp/%EF%BF%BF', 400, 'unsupported_clientid'],
    ['/ocpp/%EF%B7%90', 400, 'unsupported_clientid'],
    ['/ocpp/%ED%A0%80', 400, 'bad_percent_encoding'],
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
