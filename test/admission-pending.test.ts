import assert from 'node:assert/strict';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { attempt, basic } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { eventually, sleep, withTimeout } from './harness/time.js';

/**
 * Issue 10 item 6, the bound on upgrades in progress (OCPP_GW_MAX_PENDING_UPGRADES): upgrades
 * waiting on a slow authentication webhook hold a socket and a request each; past the bound the
 * node answers 503 `pending_upgrades` at once instead of queueing more. A client hanging up while
 * it waits frees its place; answered ones free theirs.
 */
describe('upgrades waiting on authentication are bounded (gateway process, webhook)', () => {
  let server: Server;
  let gw: GatewayProcess;
  /** Webhook requests held until the test releases them. */
  const held: ServerResponse[] = [];
  const url = (cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;
  const headers = (cid: string): Record<string, string> => ({
    authorization: basic(cid, 'a-password-of-16+'),
  });
  const allow = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'allow' }));
  };
  let holding = true;

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => (holding ? held.push(res) : allow(res)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    gw = await spawnGateway({
      OCPP_GW_AUTH_MODE: 'basic',
      OCPP_GW_AUTH_HTTP_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`,
      OCPP_GW_AUTH_HTTP_TIMEOUT_MS: '30000',
      OCPP_GW_MAX_PENDING_UPGRADES: '2',
    });
  });
  after(async () => {
    await gw.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const refusedMetric = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${gw.ports.httpPort}/metrics`)).text();
    const line = /ocpp_gateway_admission_refused_total\{limit="pending_upgrades"\} (\d+)/.exec(text);
    return Number(line?.[1] ?? NaN);
  };

  it('answers 503 pending_upgrades past the bound, and admits again once places free up', async () => {
    // Two upgrades wait on the webhook; a third raw client waits too, then hangs up.
    const first = attempt(url('CP-1'), headers('CP-1'));
    const quitter = new WebSocket(url('CP-Q'), ['ocpp1.6'], { headers: headers('CP-Q') });
    quitter.on('error', () => undefined);
    await eventually(() => held.length === 2, 3000, 'two webhook requests held');

    const third = await withTimeout(attempt(url('CP-3'), headers('CP-3')), 3000, 'an answer past the bound');
    assert.deepEqual([third.status, third.body], [503, 'pending_upgrades']);
    assert.equal(await refusedMetric(), 1);
    assert.equal(held.length, 2, 'the refused upgrade did not reach the webhook');

    // The hang-up frees its place: the next upgrade waits on the webhook instead of a 503.
    quitter.terminate();
    const deadline = Date.now() + 5000;
    let reached = false;
    while (!reached && Date.now() < deadline) {
      const probe = attempt(url('CP-4'), headers('CP-4'));
      const status = await Promise.race([probe.then((p) => p.status), sleep(300).then(() => 0)]);
      if (status === 503) {
        await sleep(100); // the node has not seen the hang-up yet
        continue;
      }
      assert.equal(status, 0, 'still waiting: it went to the webhook');
      await eventually(() => held.length === 3, 2000, 'CP-4 reached the webhook');
      reached = true;
      allow(held[2]!);
      assert.equal((await probe).status, 101);
      (await probe).ws?.terminate();
    }
    assert.ok(reached, 'the place the hang-up held was freed');

    // Answered ones free theirs: release the held request, then a new station gets in at once.
    holding = false;
    for (const res of held.splice(0)) if (!res.writableEnded) allow(res);
    const admitted = await first;
    assert.equal(admitted.status, 101);
    admitted.ws?.terminate();
    const after = await attempt(url('CP-5'), headers('CP-5'));
    assert.equal(after.status, 101);
    after.ws?.terminate();
    assert.ok((await refusedMetric()) >= 1);
  });
});
