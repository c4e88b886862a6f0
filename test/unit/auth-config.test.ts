import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { configProblems } from '../harness/config-problems.js';

/** Issue 10: the authentication variables, their defaults and their errors (each by name). */
describe('auth configuration', () => {
  const problems = configProblems;

  it('has the documented defaults', () => {
    const { auth } = loadConfig({});
    assert.deepEqual(auth, {
      mode: 'none',
      file: undefined,
      httpUrl: undefined,
      httpTimeoutMs: 2000,
      cacheMs: 10_000,
      maxFailuresPerId: 10,
      maxFailuresPerAddress: 100,
      failureWindowMs: 60_000,
      clientCertHeader: undefined,
      trustedProxies: [],
      certRule: 'cn-equals-id',
      certOrganization: undefined,
    });
  });

  it('basic needs a store: a file, the webhook, or cluster mode', () => {
    assert.deepEqual(problems({ OCPP_GW_AUTH_MODE: 'basic' }), ['OCPP_GW_AUTH_MODE']);
    assert.deepEqual(problems({ OCPP_GW_AUTH_MODE: 'basic', OCPP_GW_AUTH_FILE: '/tmp/x.json' }), []);
    assert.deepEqual(
      problems({ OCPP_GW_AUTH_MODE: 'basic', OCPP_GW_AUTH_HTTP_URL: 'http://auth:8080/' }),
      [],
    );
    assert.deepEqual(problems({ OCPP_GW_AUTH_MODE: 'basic', OCPP_GW_REDIS_URL: 'redis://r:6379' }), []);
  });

  it('client-cert needs the header and the trusted proxies; bad values are named', () => {
    assert.deepEqual(problems({ OCPP_GW_AUTH_MODE: 'client-cert' }), [
      'OCPP_GW_CLIENT_CERT_HEADER',
      'OCPP_GW_TRUSTED_PROXIES',
    ]);
    assert.deepEqual(
      problems({
        OCPP_GW_AUTH_MODE: 'client-cert',
        OCPP_GW_CLIENT_CERT_HEADER: 'X-SSL-Client-Cert',
        OCPP_GW_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8, 192.0.2.1',
      }),
      [],
    );
    assert.deepEqual(
      problems({
        OCPP_GW_AUTH_MODE: 'sometimes',
        OCPP_GW_TRUSTED_PROXIES: '10.0.0.0/33, not-an-ip',
        OCPP_GW_CLIENT_CERT_HEADER: 'bad header',
        OCPP_GW_AUTH_HTTP_URL: 'ftp://x',
        OCPP_GW_CLIENT_CERT_RULE: 'cn-anything',
      }),
      [
        'OCPP_GW_AUTH_HTTP_URL',
        'OCPP_GW_AUTH_MODE',
        'OCPP_GW_CLIENT_CERT_HEADER',
        'OCPP_GW_CLIENT_CERT_RULE',
        'OCPP_GW_TRUSTED_PROXIES',
      ],
    );
  });
});
