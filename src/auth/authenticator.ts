import type { AuthConfig } from '../config/auth.js';
import type { Logger } from '../observability/logger.js';
import type { AuthFailureReason, AuthMethod, AuthMetrics } from './auth-metrics.js';
import { parseBasic, type BasicCredentials } from './basic-header.js';
import { certificateBinds, parseForwardedCert } from './client-cert.js';
import { FailureLimiter } from './failure-limiter.js';
import { TrustedProxies, type Origin } from './forwarded.js';
import type { HttpVerifier } from './http-verifier.js';
import type { SecurityProfile } from './record.js';
import { matchSecret } from './secret.js';
import type { CredentialStore } from './store.js';
import { VerifiedCache } from './verified-cache.js';

/** Everything authentication needs from an upgrade request, copied out of uWS's `req`. */
export interface AuthRequest {
  readonly cid: string;
  /** Lower-case names (edge/handshake.ts `combineHeaderLines`). */
  readonly headers: ReadonlyMap<string, string>;
  /** The socket peer's address as uWS reports it. */
  readonly peer: string;
  /** Arrived on the gateway's own TLS listener. */
  readonly secure: boolean;
}

export type AuthVerdict =
  | { readonly ok: true; readonly method: AuthMethod; readonly origin: Origin }
  | {
      readonly ok: false;
      readonly status: 401 | 429 | 503;
      readonly reason: AuthFailureReason;
      readonly origin: Origin;
    };

/** Where the secrets are checked: a store of hashed records, or the webhook. */
export type CredentialSource =
  | { readonly kind: 'store'; readonly store: CredentialStore }
  | { readonly kind: 'webhook'; readonly verifier: HttpVerifier }
  | { readonly kind: 'none' };

type Check = { ok: true; profile: SecurityProfile } | { ok: false; reason: AuthFailureReason };

/**
 * Station authentication at the upgrade (OCPP 1.6 Security Whitepaper ed. 3 §2; OCPP 2.0.1
 * Part 2 A00): Basic auth for profiles 1 and 2, a client certificate forwarded by a trusted TLS
 * proxy for profile 3. The Basic user must be the charge point of the URL; a station recorded
 * at profile 2 or 3 is refused on a weaker transport (`downgrade`); failures back off per id and
 * per client address.
 */
export class Authenticator {
  readonly proxies: TrustedProxies;
  private readonly cache: VerifiedCache;
  private readonly perId: FailureLimiter;
  private readonly perAddress: FailureLimiter;

  constructor(
    private readonly config: AuthConfig,
    private readonly source: CredentialSource,
    private readonly metrics: AuthMetrics,
    private readonly log: Logger,
  ) {
    this.proxies = new TrustedProxies(config.trustedProxies);
    this.cache = new VerifiedCache(config.cacheMs);
    this.perId = new FailureLimiter(config.maxFailuresPerId, config.failureWindowMs);
    this.perAddress = new FailureLimiter(config.maxFailuresPerAddress, config.failureWindowMs);
  }

  /** The station's credentials changed here (rotation, profile, the operator). */
  invalidate(cid: string): void {
    this.cache.invalidate(cid);
  }

  /** The store changed under us (the file was reloaded): every cached verification goes. */
  invalidateAll(): void {
    this.cache.clear();
  }

  async authenticate(request: AuthRequest): Promise<AuthVerdict> {
    const origin = this.proxies.origin(request.peer, request.headers, request.secure);
    if (this.config.mode === 'none') return this.accept('none', origin, request.cid);
    const idKey = request.cid;
    if (this.perId.blocked(idKey) || this.perAddress.blocked(origin.address)) {
      this.metrics.failures.labels('rate_limited').inc();
      return { ok: false, status: 429, reason: 'rate_limited', origin };
    }
    const certHeader = this.config.clientCertHeader;
    const forwarded = certHeader === undefined ? undefined : request.headers.get(certHeader);
    let method: AuthMethod;
    let check: Check;
    if (this.config.mode === 'client-cert' && forwarded !== undefined && origin.viaTrustedProxy) {
      method = 'client-cert';
      check = this.checkCertificate(request.cid, forwarded);
    } else {
      method = 'basic';
      check =
        this.config.mode === 'client-cert' && this.source.kind === 'none'
          ? { ok: false, reason: 'missing' }
          : await this.checkBasic(request.cid, parseBasic(request.headers.get('authorization')), origin);
    }
    if (check.ok) return this.accept(method, origin, request.cid);
    if (check.reason !== 'store_unavailable') {
      this.perId.fail(idKey);
      this.perAddress.fail(origin.address);
    }
    this.metrics.failures.labels(check.reason).inc();
    const status = check.reason === 'store_unavailable' ? 503 : 401;
    return { ok: false, status, reason: check.reason, origin };
  }

  private accept(method: AuthMethod, origin: Origin, cid: string): AuthVerdict {
    if (method !== 'none') {
      this.perId.succeed(cid);
      this.metrics.accepted.labels(method).inc();
    }
    return { ok: true, method, origin };
  }

  private checkCertificate(cid: string, forwarded: string): Check {
    const cert = parseForwardedCert(forwarded);
    const binding = { rule: this.config.certRule, organization: this.config.certOrganization };
    if (cert === undefined || !certificateBinds(cert, cid, binding))
      return { ok: false, reason: 'bad_certificate' };
    return { ok: true, profile: 3 };
  }

  private async checkBasic(
    cid: string,
    credentials: BasicCredentials | undefined,
    origin: Origin,
  ): Promise<Check> {
    if (credentials === undefined) return { ok: false, reason: 'missing' };
    // The 1.6 whitepaper and 2.0.1 A00.FR.203 make the user the charge point's identity: a
    // station's valid password must not open another station's topics.
    if (credentials.user !== cid) return { ok: false, reason: 'bad_user' };
    const digest = VerifiedCache.digest(credentials.password);
    let profile = this.cache.get(cid, digest);
    if (profile !== undefined) {
      this.metrics.cacheHits.inc();
    } else {
      let verified: Check;
      try {
        verified = await this.verify(cid, credentials, origin);
      } catch (error) {
        this.log.warn({ err: error, cpId: cid }, 'credential store unavailable; upgrade refused');
        return { ok: false, reason: 'store_unavailable' };
      }
      if (!verified.ok) return verified;
      profile = verified.profile;
      this.cache.set(cid, digest, profile);
    }
    // Basic auth never carries profile 3; profile 2 needs TLS (OCTT TC_073/TC_083 style).
    if (profile === 3 || (profile === 2 && !origin.tls)) return { ok: false, reason: 'downgrade' };
    return { ok: true, profile };
  }

  private async verify(cid: string, credentials: BasicCredentials, origin: Origin): Promise<Check> {
    const { source } = this;
    if (source.kind === 'none') return { ok: false, reason: 'unknown_station' };
    if (source.kind === 'webhook') {
      const verdict = await source.verifier.verify({
        cid,
        username: credentials.user,
        password: credentials.password,
        peerAddress: origin.address,
        tls: origin.tls,
      });
      return verdict.allow ? { ok: true, profile: verdict.profile } : { ok: false, reason: 'bad_password' };
    }
    const record = await source.store.get(cid);
    if (record === undefined) return { ok: false, reason: 'unknown_station' };
    const index = matchSecret(record.secrets, credentials.password);
    if (index < 0) return { ok: false, reason: 'bad_password' };
    // A rotation completes with the first connection on a newer secret: the older ones go.
    if (index > 0) void this.revokeOlder(source.store, cid, index);
    return { ok: true, profile: record.profile };
  }

  private async revokeOlder(store: CredentialStore, cid: string, index: number): Promise<void> {
    try {
      await store.update(cid, (current) =>
        current === undefined || current.secrets.length <= index
          ? undefined
          : { ...current, secrets: current.secrets.slice(index), updatedAt: new Date().toISOString() },
      );
      this.cache.invalidate(cid);
      this.log.info({ cpId: cid }, 'credential rotation complete; previous secret revoked');
    } catch (error) {
      this.log.warn(
        { err: error, cpId: cid },
        'previous secret could not be revoked; will retry next connect',
      );
    }
  }
}
