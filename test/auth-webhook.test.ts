import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { attempt, basic, series } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

interface Seen {
  clientid: string;
  username: string;
  password: string | null;
  password_base64: string;
  tls: boolean;
}

/**
 * Issue 10 item 2, the HTTP authentication webhook: a real HTTP server in the test decides per
 * station; the gateway process admits on "allow", refuses on "deny" or a 4xx, refuses with 503
 * (fails closed) on a 5xx or when the webhook does not answer within the timeout, and reuses a
 * verdict for the cache time.
 */
describe('authentication webhook (gateway process, local HTTP server)', () => {
  let server: Server;
  let gw: GatewayProcess;
  let backend: MqttObserver;
  const seen: Seen[] = [];
  const url = (cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const request = JSON.parse(body) as Seen;
        seen.push(request);
        const answer = (status: number, json?: unknown): void => {
          res
            .writeHead(status, { 'content-type': 'application/json' })
            .end(json === undefined ? '' : JSON.stringify(json));
        };
        switch (request.clientid) {
          case 'CP-ALLOW':
            answer(
              200,
              request.password === 'the-right-password-123' ? { result: 'allow' } : { result: 'deny' },
            );
            return;
          case 'CP-P2':
            answer(200, { result: 'allow', profile: 2 });
            return;
          case 'CP-403':
            answer(403);
            return;
          case 'CP-500':
            answer(500);
            return;
          case 'CP-SLOW':
            setTimeout(() => answer(200, { result: 'allow' }), 1500);
            return;
          default:
            answer(200, { result: 'deny' });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    gw = await spawnGateway({
      OCPP_GW_AUTH_MODE: 'basic',
      OCPP_GW_AUTH_HTTP_URL: `http://127.0.0.1:${port}/auth`,
      OCPP_GW_AUTH_HTTP_TIMEOUT_MS: '300',
      OCPP_GW_AUTH_CACHE_MS: '60000',
      OCPP_GW_AUTH_MAX_FAILURES_PER_ID: '100',
    });
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${String(gw.ports.mqttPort)}`, ['ocpp/#'], {
      protocolVersion: 4,
    });
  });
  after(async () => {
    await backend.end();
    await gw.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses on deny and on a 4xx (401), and fails closed on a 5xx and on a timeout (503)', async () => {
    const cases: [string, number, string][] = [
      ['CP-ALLOW', 401, 'bad_password'],
      ['CP-403', 401, 'bad_password'],
      ['CP-500', 503, 'store_unavailable'],
      ['CP-SLOW', 503, 'store_unavailable'],
    ];
    for (const [cid, status, reason] of cases) {
      const started = Date.now();
      const answer = await attempt(url(cid), { authorization: basic(cid, 'a-wrong-password-1234') });
      assert.deepEqual([answer.status, answer.body], [status, reason], cid);
      if (cid === 'CP-SLOW')
        assert.ok(Date.now() - started < 1400, 'answered at the timeout, not the webhook');
    }
    await sleep(1500); // the slow webhook answers "allow" after the refusal: it must change nothing
    assert.deepEqual(
      backend.seen.map((m) => m.topic),
      [],
      'nothing published for a refused upgrade',
    );
    const text = await (await fetch(`http://127.0.0.1:${gw.ports.httpPort}/metrics`)).text();
    assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="store_unavailable"}'), 2);
  });

  it('admits on allow, sends the credentials binary-safe, and reuses the verdict from its cache', async () => {
    const before = seen.length;
    const answer = await attempt(url('CP-ALLOW'), {
      authorization: basic('CP-ALLOW', 'the-right-password-123'),
    });
    assert.equal(answer.status, 101);
    answer.ws?.terminate();
    const request = seen.at(-1);
    assert.deepEqual(
      [request?.clientid, request?.username, request?.password, request?.tls],
      ['CP-ALLOW', 'CP-ALLOW', 'the-right-password-123', false],
    );
    assert.equal(Buffer.from(request?.password_base64 ?? '', 'base64').toString(), 'the-right-password-123');
    const again = await attempt(url('CP-ALLOW'), {
      authorization: basic('CP-ALLOW', 'the-right-password-123'),
    });
    assert.equal(again.status, 101);
    again.ws?.terminate();
    assert.equal(seen.length, before + 1, 'the second connect was answered from the cache');
  });

  it('applies the profile the webhook names: profile 2 on plain ws is a downgrade', async () => {
    const answer = await attempt(url('CP-P2'), { authorization: basic('CP-P2', 'any-password-0123456') });
    assert.deepEqual([answer.status, answer.body], [401, 'downgrade']);
  });
});
