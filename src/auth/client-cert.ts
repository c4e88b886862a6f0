import { X509Certificate } from 'node:crypto';
import type { CertRule } from '../config/auth.js';

/**
 * Profile 3 behind a TLS proxy: the proxy verified the chain and forwards the client certificate
 * in a header; here it is parsed and bound to the charge point of the URL.
 */

/**
 * The certificate in a forwarded header: nginx `$ssl_client_escaped_cert` (URL-encoded PEM),
 * Envoy `X-Forwarded-Client-Cert` (`...;Cert="<URL-encoded PEM>";...`) or a plain PEM.
 */
export function parseForwardedCert(value: string): X509Certificate | undefined {
  const envoy = /(?:^|[;,])\s*Cert="([^"]*)"/i.exec(value);
  let pem = envoy?.[1] ?? value;
  try {
    if (pem.includes('%')) pem = decodeURIComponent(pem);
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** One attribute of a distinguished name as node:crypto prints it (`CN=...` lines). */
function attribute(dn: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of dn.split('\n')) {
    if (line.startsWith(`${name}=`)) value = line.slice(name.length + 1);
  }
  return value;
}

export interface CertBinding {
  readonly rule: CertRule;
  /** Required subject O (the operator), when set. */
  readonly organization: string | undefined;
}

/**
 * Whether `cert` identifies `cid`: by default its subject CN is the id (OCPP 2.0.1 Part 2
 * A00.FR.403 style); `cn-contains-id` takes a CN that contains the id (the serial number) and
 * with an organization set, the subject O must be that operator (A00.FR.404, A00.FR.405). A
 * certificate outside its validity period never binds, whatever the proxy let through.
 */
export function certificateBinds(
  cert: X509Certificate,
  cid: string,
  binding: CertBinding,
  now = new Date(),
): boolean {
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return false;
  const cn = attribute(cert.subject, 'CN');
  if (cn === undefined) return false;
  const named = binding.rule === 'cn-equals-id' ? cn === cid : cn.includes(cid);
  if (!named) return false;
  return binding.organization === undefined || attribute(cert.subject, 'O') === binding.organization;
}
