import { execFileSync } from 'node:child_process';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsFiles } from './tls-certs.js';

export interface ServerPair {
  readonly cert: string;
  readonly key: string;
}

let issued = 0;

/** Another 127.0.0.1 server certificate from the same test CA, with its own subject CN. */
export function issueServerPair(files: TlsFiles, cn: string): ServerPair {
  issued += 1;
  const at = (name: string): string => join(files.dir, `${cn}-${issued}.${name}`);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    at('key'),
    '-out',
    at('csr'),
  );
  writeFileSync(at('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    ...['x509', '-req', '-in', at('csr'), '-CA', files.caCert, '-CAkey', join(files.dir, 'ca.key')],
    ...['-CAcreateserial', '-days', '2', '-extfile', at('ext'), '-out', at('crt')],
  );
  return { cert: at('crt'), key: at('key') };
}

/** Puts a pair in place the way renewal tools do: a new file renamed over the served one. */
export function installPair(pair: ServerPair, certFile: string, keyFile: string): void {
  copyFileSync(pair.key, `${keyFile}.new`);
  copyFileSync(pair.cert, `${certFile}.new`);
  renameSync(`${keyFile}.new`, keyFile);
  renameSync(`${certFile}.new`, certFile);
}
