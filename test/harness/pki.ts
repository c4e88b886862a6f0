import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsFiles } from './tls-certs.js';

export interface ClientCert {
  readonly cert: string;
  readonly key: string;
  /** PEM text of the certificate, for a forged header. */
  readonly pem: string;
}

let serial = 0;

/**
 * A client certificate for a charge point, subject chosen by the test (`/CN=CP1/O=Operator`),
 * signed by the CA of {@link makeTlsFiles} with openssl; `days` < 0 makes it already expired.
 */
export function makeClientCert(ca: TlsFiles, subject: { cn: string; o?: string }, days = 2): ClientCert {
  const name = `client-${++serial}`;
  const at = (file: string): string => join(ca.dir, `${name}.${file}`);
  const dn = `/CN=${subject.cn}${subject.o === undefined ? '' : `/O=${subject.o}`}`;
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    dn,
    '-keyout',
    at('key'),
    '-out',
    at('csr'),
  );
  openssl(
    ...[
      'x509',
      '-req',
      '-in',
      at('csr'),
      '-CA',
      ca.caCert,
      '-CAkey',
      join(ca.dir, 'ca.key'),
      '-CAcreateserial',
    ],
    ...['-days', String(days), '-out', at('crt')],
  );
  return { cert: at('crt'), key: at('key'), pem: readFileSync(at('crt'), 'utf8') };
}
