import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Reader } from './env-reader.js';
import type { TlsConfig } from './types.js';

/**
 * The wss listener (OCPP Security Whitepaper profile 2): on when both files are named. The pair
 * is loaded once here so a missing file, a malformed PEM or a key that does not match the
 * certificate is a configuration error naming the variable, not a failure at the first handshake.
 */
export function parseTls(r: Reader): TlsConfig | undefined {
  const port = r.int('TLS_PORT', 33043, 0, 65535);
  const certFile = r.raw('TLS_CERT_FILE');
  const keyFile = r.raw('TLS_KEY_FILE');
  const watch = r.bool('TLS_WATCH', true);
  // Profile 2 and 3 stations need no plain listener; profile 1 ones (and a TLS proxy) may.
  const plainWs = r.oneOf('PLAIN_WS', ['on', 'off'], 'on') === 'on';
  if (certFile === undefined && keyFile === undefined) {
    if (!plainWs)
      r.fail('PLAIN_WS', 'off needs the wss listener: set OCPP_GW_TLS_CERT_FILE and OCPP_GW_TLS_KEY_FILE');
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    r.fail(
      certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE',
      'must be set together with the other TLS file',
    );
    return undefined;
  }
  const cert = readable(r, 'TLS_CERT_FILE', certFile);
  const key = readable(r, 'TLS_KEY_FILE', keyFile);
  if (cert !== undefined && key !== undefined) {
    const problem = tlsPairProblem(cert, key);
    if (problem !== undefined) r.fail('TLS_KEY_FILE', problem);
  }
  return { port, certFile, keyFile, watch, plainWs };
}

function readable(r: Reader, name: string, file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    r.fail(name, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    return undefined;
  }
}

/** undefined when the PEM pair loads and the key belongs to the certificate, else why not. */
export function tlsPairProblem(cert: Buffer, key: Buffer): string | undefined {
  try {
    createSecureContext({ cert, key });
    return undefined;
  } catch (error) {
    return `certificate and key do not load as a pair (${(error as Error).message})`;
  }
}
