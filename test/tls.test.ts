import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { loadConfig } from '../src/config/index.js';
import { configProblems } from './harness/config-problems.js';
import { ChargePoint } from './harness/cp-client.js';
import { runGateway, spawnGateway, TEST_ENV, type GatewayProcess } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { makeTlsFiles, type TlsFiles } from './harness/tls-certs.js';
import { installPair, issueServerPair } from './harness/tls-rotation.js';
import { eventually, sleep, withTimeout } from './harness/time.js';

function handshake(port: number, ca: Buffer, options: ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

/** The subject CN of the certificate a fresh handshake gets. */
async function servedCn(port: number, ca: Buffer): Promise<string> {
  const socket = await handshake(port, ca);
  const cn = socket.getPeerCertificate().subject.CN;
  socket.destroy();
  return String(cn);
}

/**
 * A resumable session from a first full handshake. TLS 1.2 has it when the handshake ends; a
 * TLS 1.3 ticket comes after the handshake, so ask for something and wait for it.
 */
async function firstSession(port: number, ca: Buffer, version: 'TLSv1.2' | 'TLSv1.3'): Promise<Buffer> {
  const socket = await handshake(port, ca, { minVersion: version, maxVersion: version });
  assert.equal(socket.isSessionReused(), false);
  const ticket = new Promise<Buffer>((resolve) => socket.once('session', resolve));
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const session = version === 'TLSv1.2' ? socket.getSession() : await withTimeout(ticket, 3000, 'ticket');
  socket.destroy();
  assert.ok(session !== undefined, 'the server issued a session');
  return session;
}

function opensslTls11(port: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'],
      { timeout: 10_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? -1), output: stdout + stderr }),
    );
    child.stdin?.end();
  });
}

async function metric(httpPort: number, pattern: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return pattern.exec(text)?.[1];
}

describe('TLS configuration', () => {
  const problems = (env: Record<string, string>): string[] => configProblems({ ...TEST_ENV, ...env });
  let files: TlsFiles;
  before(() => {
    files = makeTlsFiles();
  });

  it('is off without files and listens on 33043 by default', () => {
    assert.equal(loadConfig({}).tls, undefined);
    const tls = loadConfig({
      OCPP_GW_TLS_CERT_FILE: files.serverCert,
      OCPP_GW_TLS_KEY_FILE: files.serverKey,
    }).tls;
    assert.equal(tls?.port, 33043);
  });

  it('names the variable of a missing, unreadable or mismatched file', () => {
    assert.deepEqual(problems({ OCPP_GW_TLS_CERT_FILE: files.serverCert }), ['OCPP_GW_TLS_KEY_FILE']);
    assert.deepEqual(problems({ OCPP_GW_TLS_KEY_FILE: files.serverKey }), ['OCPP_GW_TLS_CERT_FILE']);
    assert.deepEqual(
      problems({
        OCPP_GW_TLS_CERT_FILE: join(files.dir, 'absent.crt'),
        OCPP_GW_TLS_KEY_FILE: files.serverKey,
      }),
      ['OCPP_GW_TLS_CERT_FILE'],
    );
    const other = issueServerPair(files, 'other');
    assert.deepEqual(problems({ OCPP_GW_TLS_CERT_FILE: files.serverCert, OCPP_GW_TLS_KEY_FILE: other.key }), [
      'OCPP_GW_TLS_KEY_FILE',
    ]);
  });
});

describe('wss listener (gateway process)', () => {
  let files: TlsFiles;
  let ca: Buffer;
  let certFile: string;
  let keyFile: string;
  let gw: GatewayProcess;
  let tlsPort: number;
  let backend: MqttObserver;

  before(async () => {
    files = makeTlsFiles();
    ca = readFileSync(files.caCert);
    certFile = join(files.dir, 'served.crt');
    keyFile = join(files.dir, 'served.key');
    copyFileSync(files.serverCert, certFile);
    copyFileSync(files.serverKey, keyFile);
    gw = await spawnGateway({
      OCPP_GW_TLS_CERT_FILE: certFile,
      OCPP_GW_TLS_KEY_FILE: keyFile,
      OCPP_GW_TLS_PORT: '0',
    });
    tlsPort = gw.ports.tlsPort ?? 0;
    assert.ok(tlsPort > 0, 'the ready line names the wss port');
    backend = await MqttObserver.connect(`mqtt://127.0.0.1:${gw.ports.mqttPort ?? 0}`, ['ocpp/#'], {
      protocolVersion: 4,
    });
  });
  after(async () => {
    await backend.end();
    await gw.stop('SIGKILL');
  });

  it('bridges a station over wss as over ws', async () => {
    const cp = await ChargePoint.connect(`wss://127.0.0.1:${tlsPort}/ocpp/secure1`, ['ocpp1.6'], {}, { ca });
    try {
      assert.equal(cp.ws.protocol, 'ocpp1.6');
      cp.send([2, 'b1', 'Heartbeat', {}]);
      await backend.waitFor('ocpp/cp/secure1');
    } finally {
      cp.ws.terminate();
    }
  });

  it('refuses TLS 1.1 and 1.0 (openssl s_client and node), accepts 1.2 and 1.3', async () => {
    const openssl = await opensslTls11(tlsPort);
    assert.notEqual(openssl.code, 0);
    assert.match(openssl.output, /alert protocol version|wrong version number|unsupported protocol/i);
    for (const version of ['TLSv1.1', 'TLSv1'] as const) {
      await assert.rejects(
        handshake(tlsPort, ca, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' }),
        (error: NodeJS.ErrnoException) => error.code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      );
    }
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await handshake(tlsPort, ca, { minVersion: version, maxVersion: version });
      assert.equal(socket.getProtocol(), version);
      socket.destroy();
    }
  });

  it('resumes sessions (TLS 1.2 and 1.3)', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const session = await firstSession(tlsPort, ca, version);
      const resumed = await handshake(tlsPort, ca, { minVersion: version, maxVersion: version, session });
      assert.equal(resumed.isSessionReused(), true, `${version} resumed`);
      resumed.destroy();
    }
  });

  it('reloads the pair on SIGHUP and on a file change without dropping established sockets', async () => {
    assert.equal(await servedCn(tlsPort, ca), '127.0.0.1');
    const cp = await ChargePoint.connect(`wss://127.0.0.1:${tlsPort}/ocpp/keep1`, ['ocpp1.6'], {}, { ca });
    try {
      installPair(issueServerPair(files, 'second'), certFile, keyFile);
      gw.child.kill('SIGHUP');
      // A handshake racing the swap may be reset: it sat in the old listen socket's accept queue
      // when that closed (SO_REUSEPORT spreads new connections over both). A station retries; so
      // does the probe. Established sockets are the point of this test.
      const served = (): Promise<string> => servedCn(tlsPort, ca).catch(() => 'reset');
      await eventually(async () => (await served()) === 'second', 3000, 'SIGHUP reload');
      installPair(issueServerPair(files, 'third'), certFile, keyFile);
      // No signal: the directory watch picks it up.
      await eventually(async () => (await served()) === 'third', 5000, 'file-watch reload');
      cp.send([2, 'k1', 'Heartbeat', {}]);
      await backend.waitFor('ocpp/cp/keep1', (m: { UniqueId?: string }) => m.UniqueId === 'k1');
      assert.equal(cp.closed, undefined, 'the socket opened before both reloads is still open');
      assert.equal(
        await metric(gw.ports.httpPort, /ocpp_gateway_tls_reloads_total\{result="ok"\} (\d+)/),
        '2',
      );
    } finally {
      cp.ws.terminate();
    }
  });

  it('refuses to share its wss port with another gateway (GW_ERR_LISTEN, exit 1)', async () => {
    const second = await runGateway({
      ...TEST_ENV,
      OCPP_GW_TLS_CERT_FILE: certFile,
      OCPP_GW_TLS_KEY_FILE: keyFile,
      OCPP_GW_TLS_PORT: String(tlsPort),
    });
    assert.equal(second.code, 1);
    assert.match(second.stdout, /"code":"GW_ERR_LISTEN"/);
  });

  it('keeps serving the old pair when the new one does not load', async () => {
    const before = await servedCn(tlsPort, ca);
    const stray = issueServerPair(files, 'stray');
    copyFileSync(stray.key, keyFile); // a key without its certificate
    gw.child.kill('SIGHUP');
    const failed = /ocpp_gateway_tls_reloads_total\{result="failed"\} (\d+)/;
    await eventually(async () => (await metric(gw.ports.httpPort, failed)) !== '0', 3000, 'reload refused');
    await sleep(400); // past the watch's settle time: it must not have swapped either
    assert.equal(await servedCn(tlsPort, ca), before);
    assert.match(gw.stdout(), /TLS reload failed/);
  });
});
