import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Reader } from './env-reader.js';

export type AuthMode = 'none' | 'basic' | 'client-cert';

/** How a forwarded client certificate binds to the charge-point id of the URL. */
export type CertRule = 'cn-equals-id' | 'cn-contains-id';

export interface AuthConfig {
  /** OCPP_GW_AUTH_MODE. @default 'none' (a warning at start) */
  readonly mode: AuthMode;
  /** OCPP_GW_AUTH_FILE: the single-node credential store. @default undefined */
  readonly file: string | undefined;
  /** OCPP_GW_AUTH_HTTP_URL: a webhook asked instead of the store. @default undefined */
  readonly httpUrl: string | undefined;
  /** OCPP_GW_AUTH_HTTP_TIMEOUT_MS: past it the upgrade is refused (fails closed). @default 2000 */
  readonly httpTimeoutMs: number;
  /** OCPP_GW_AUTH_CACHE_MS: how long a verified credential or a webhook verdict is reused. @default 10000 */
  readonly cacheMs: number;
  /** OCPP_GW_AUTH_MAX_FAILURES_PER_ID within the window, then 429. @default 10 */
  readonly maxFailuresPerId: number;
  /** OCPP_GW_AUTH_MAX_FAILURES_PER_ADDRESS within the window, then 429. @default 100 */
  readonly maxFailuresPerAddress: number;
  /** OCPP_GW_AUTH_FAILURE_WINDOW_MS. @default 60000 */
  readonly failureWindowMs: number;
  /** OCPP_GW_CLIENT_CERT_HEADER (lower case), e.g. `x-ssl-client-cert`. @default undefined */
  readonly clientCertHeader: string | undefined;
  /** OCPP_GW_TRUSTED_PROXIES: CIDR list; only these may forward a certificate or X-Forwarded-*. @default [] */
  readonly trustedProxies: readonly string[];
  /** OCPP_GW_CLIENT_CERT_RULE. @default 'cn-equals-id' */
  readonly certRule: CertRule;
  /** OCPP_GW_CLIENT_CERT_ORGANIZATION: the subject O a certificate must carry. @default undefined */
  readonly certOrganization: string | undefined;
}

/** A CIDR list as a node:net BlockList (IPv4 and IPv6); bare addresses are /32 or /128. */
export function parseCidrs(list: readonly string[]): { blockList: BlockList; bad: string[] } {
  const blockList = new BlockList();
  const bad: string[] = [];
  for (const entry of list) {
    const [address = '', bits] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    const max = type === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (type === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max || bits === '') {
      bad.push(entry);
      continue;
    }
    blockList.addSubnet(address, prefix, type);
  }
  return { blockList, bad };
}

/** Parses the OCPP_GW_AUTH_* and client-certificate variables; `clustered` picks the Redis store. */
export function parseAuth(r: Reader, clustered: boolean): AuthConfig {
  const mode = r.oneOf<AuthMode>('AUTH_MODE', ['none', 'basic', 'client-cert'], 'none');
  const trustedProxies = (r.raw('TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const { bad } = parseCidrs(trustedProxies);
  if (bad.length > 0) r.fail('TRUSTED_PROXIES', `not a CIDR or address: ${bad.join(', ')}`);
  const clientCertHeader = r.raw('CLIENT_CERT_HEADER')?.toLowerCase();
  if (clientCertHeader !== undefined && !/^[a-z0-9-]+$/.test(clientCertHeader))
    r.fail('CLIENT_CERT_HEADER', 'must be an HTTP header name');
  const config: AuthConfig = {
    mode,
    file: r.raw('AUTH_FILE'),
    httpUrl: r.url('AUTH_HTTP_URL', ['http', 'https']),
    httpTimeoutMs: r.int('AUTH_HTTP_TIMEOUT_MS', 2000, 50, 60_000),
    cacheMs: r.int('AUTH_CACHE_MS', 10_000, 0, 3_600_000),
    maxFailuresPerId: r.int('AUTH_MAX_FAILURES_PER_ID', 10, 1, 1_000_000),
    maxFailuresPerAddress: r.int('AUTH_MAX_FAILURES_PER_ADDRESS', 100, 1, 1_000_000),
    failureWindowMs: r.int('AUTH_FAILURE_WINDOW_MS', 60_000, 100, 86_400_000),
    clientCertHeader,
    trustedProxies,
    certRule: r.oneOf<CertRule>('CLIENT_CERT_RULE', ['cn-equals-id', 'cn-contains-id'], 'cn-equals-id'),
    certOrganization: r.raw('CLIENT_CERT_ORGANIZATION'),
  };
  const hasStore = config.file !== undefined || config.httpUrl !== undefined || clustered;
  if (mode === 'basic' && !hasStore)
    r.fail('AUTH_MODE', 'basic needs a credential store: set OCPP_GW_AUTH_FILE (or OCPP_GW_AUTH_HTTP_URL)');
  if (mode === 'client-cert') {
    if (clientCertHeader === undefined)
      r.fail(
        'CLIENT_CERT_HEADER',
        'client-cert mode needs the header the TLS proxy forwards the certificate in',
      );
    if (trustedProxies.length === 0)
      r.fail('TRUSTED_PROXIES', 'client-cert mode needs the addresses of the TLS proxies');
  }
  return config;
}
