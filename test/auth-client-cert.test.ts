import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { attempt, series } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { Nginx } from './harness/nginx.js';
import { makeClientCert, type ClientCert } from './harness/pki.js';
import { makeTlsFiles, type TlsFiles } from './harness/tls-certs.js';
import { sleep } from './harness/time.js';

/**
 * Issue 10 item 4, security profile 3 behind a real nginx doing mutual TLS: nginx verifies the
 * station's certificate and forwards it; the gateway binds its subject CN to the charge point of
 * the URL, trusts the header only from nginx's address, and takes the client address from
 * X-Forwarded-For only from there.
 */
describe('profile 3: client certificates through nginx mutual TLS (gateway process)', () => {
  let tls: TlsFiles;
  let gw: GatewayProcess;
  let nginx: Nginx;
  let backend: MqttObserver;
  let matching: ClientCert;
  let other: ClientCert;
  let ca: Buffer;
  const client = (cert: ClientCert | undefined): { ca: Buffer; cert?: Buffer; key?: Buffer } =>
    cert === undefined ? { ca } : { ca, cert: readFileSync(cert.cert), key: readFileSync(cert.key) };
  const viaNginx = (cid: string): string => `wss://127.0.0.1:${nginx.port}/ocpp/${cid}`;

  before(async () => {
    tls = makeTlsFiles();
    ca = readFileSync(tls.caCert);
    matching = makeClientCert(tls, { cn: 'CP-C', o: 'Operator' });
    other = makeClientCert(tls, { cn: 'CP-SOMEONE-ELSE' });
    gw = await spawnGateway({
      OCPP_GW_AUTH_MODE: 'client-cert',
      OCPP_GW_CLIENT_CERT_HEADER: 'X-SSL-Client-Cert',
      OCPP_GW_TRUSTED_PROXIES: '127.0.0.2/32',
    });
    nginx = await Nginx.start({ upstreamPort: gw.ports.wsPort, tls });
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${String(gw.ports.mqttPort)}`, ['ocpp/#'], {
      protocolVersion: 4,
    });
  });
  after(async () => {
    await backend.end();
    await nginx.stop();
    await gw.stop();
    rmSync(tls.dir, { recursive: true, force: true });
  });

  it('refuses a certificate of another station (401 bad_certificate), and one missing (401 missing)', async () => {
    const mismatch = await attempt(viaNginx('CP-C'), {}, ['ocpp1.6'], client(other));
    assert.deepEqual([mismatch.status, mismatch.body], [401, 'bad_certificate']);
    const missing = await attempt(viaNginx('CP-C'), {}, ['ocpp1.6'], client(undefined));
    assert.deepEqual([missing.status, missing.body], [401, 'missing']);
  });

  it('ignores a forged certificate header from an address that is not the trusted proxy', async () => {
    const forged = await attempt(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/CP-C`, {
      'x-ssl-client-cert': encodeURIComponent(matching.pem),
      'x-forwarded-for': '198.51.100.7',
    });
    assert.deepEqual([forged.status, forged.body], [401, 'missing']);
    await sleep(300);
    assert.deepEqual(
      backend.seen.map((m) => m.topic),
      [],
      'nothing published for the refusals',
    );
    const text = await (await fetch(`http://127.0.0.1:${gw.ports.httpPort}/metrics`)).text();
    assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="bad_certificate"}'), 1);
    assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="missing"}'), 2);
  });

  it('accepts the matching certificate, with the client address from X-Forwarded-For', async () => {
    const answer = await attempt(viaNginx('CP-C'), {}, ['ocpp1.6'], client(matching));
    assert.equal(answer.status, 101);
    const event = await backend.waitFor('ocpp/events/CP-C/connected');
    // nginx connects from 127.0.0.2; the station's own address is what nginx saw.
    assert.equal((event.json as { ipaddress?: string }).ipaddress, '127.0.0.1');
    answer.ws?.terminate();
  });
});

describe('profile 3: the "CN contains the serial, O is the operator" rule (A00.FR.404/405)', () => {
  let tls: TlsFiles;
  let gw: GatewayProcess;
  before(async () => {
    tls = makeTlsFiles();
    gw = await spawnGateway({
      OCPP_GW_AUTH_MODE: 'client-cert',
      OCPP_GW_CLIENT_CERT_HEADER: 'X-Forwarded-Client-Cert',
      OCPP_GW_TRUSTED_PROXIES: '127.0.0.1',
      OCPP_GW_CLIENT_CERT_RULE: 'cn-contains-id',
      OCPP_GW_CLIENT_CERT_ORGANIZATION: 'ACME Charging',
    });
  });
  after(async () => {
    await gw.stop();
    rmSync(tls.dir, { recursive: true, force: true });
  });

  // Envoy's X-Forwarded-Client-Cert form, sent by the test playing the trusted proxy.
  const xfcc = (cert: ClientCert): string => `Hash=abc;Cert="${encodeURIComponent(cert.pem)}";Subject="x"`;
  const url = (cid: string): string => `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${cid}`;

  it('accepts a CN holding the id with the operator as O; refuses another O, another serial, an expired one', async () => {
    const good = makeClientCert(tls, { cn: 'ACME-SN-4711-A', o: 'ACME Charging' });
    const ok = await attempt(url('SN-4711'), {
      'x-forwarded-client-cert': xfcc(good),
      'x-forwarded-proto': 'https',
    });
    assert.equal(ok.status, 101);
    ok.ws?.terminate();
    const wrongOperator = makeClientCert(tls, { cn: 'ACME-SN-4711-A', o: 'Other Operator' });
    const expired = makeClientCert(tls, { cn: 'ACME-SN-4711-A', o: 'ACME Charging' }, -1);
    for (const [cid, cert] of [
      ['SN-4711', wrongOperator],
      ['SN-4712', good],
      ['SN-4711', expired],
    ] as const) {
      const answer = await attempt(url(cid), { 'x-forwarded-client-cert': xfcc(cert) });
      assert.deepEqual([answer.status, answer.body], [401, 'bad_certificate'], `${cid} ${cert.cert}`);
    }
  });
});
