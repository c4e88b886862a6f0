import { Counter, type Registry } from 'prom-client';
import type { AdmissionConfig } from '../config/index.js';
import { TokenBucket } from '../io/token-bucket.js';
import type { Session } from './session/session.js';
import { PublishShare } from './publish-share.js';

/** Every limit a refusal is counted under. */
export const ADMISSION_LIMITS = [
  'max_connections',
  'address_rate',
  'pending_upgrades',
  'call_rate',
  'call_rate_close',
  'publish_share',
] as const;
export type AdmissionLimit = (typeof ADMISSION_LIMITS)[number];

export type UpgradeRefusal =
  | { readonly status: 503; readonly reason: 'max_connections' }
  | { readonly status: 429; readonly reason: 'address_rate' }
  | { readonly status: 503; readonly reason: 'pending_upgrades' };

/** Per-address buckets kept before idle (refilled) ones are forgotten. */
const ADDRESS_SWEEP_AT = 10_000;

/**
 * Node-wide admission: a cap on open WebSockets (503, so a load balancer tries another node) and
 * a token bucket of upgrades per source address (429, RFC 6585 §4), both before any work is
 * spent on the upgrade.
 */
export class Admission {
  private open = 0;
  /** Upgrades waiting on the credential store or webhook (auth/, edge/async-upgrade.ts). */
  private pending = 0;
  private readonly addresses = new Map<string, TokenBucket>();
  readonly refused: Counter<'limit'>;
  /** Each socket's share of the MQTT publish backlog (publish-share.ts). */
  readonly share: PublishShare;

  constructor(
    readonly limits: AdmissionConfig,
    registry: Registry,
  ) {
    this.refused = new Counter({
      name: 'ocpp_gateway_admission_refused_total',
      help: 'Upgrades and CALLs refused by an admission limit, and sockets closed for exceeding one',
      labelNames: ['limit'],
      registers: [registry],
    });
    for (const limit of ADMISSION_LIMITS) this.refused.labels(limit).inc(0);
    this.share = new PublishShare(limits.maxPendingPublishesPerConnection, this.refused, registry);
  }

  /** undefined: go on with the upgrade; else the answer to give. */
  admitUpgrade(address: string, now: number): UpgradeRefusal | undefined {
    if (this.open >= this.limits.maxConnections) {
      this.refused.labels('max_connections').inc();
      return { status: 503, reason: 'max_connections' };
    }
    let bucket = this.addresses.get(address);
    if (bucket === undefined) {
      if (this.addresses.size >= ADDRESS_SWEEP_AT) this.sweep(now);
      bucket = new TokenBucket(this.limits.upgradesPerAddressPerS, this.limits.upgradeBurstPerAddress, now);
      this.addresses.set(address, bucket);
    }
    if (!bucket.take(now)) {
      this.refused.labels('address_rate').inc();
      return { status: 429, reason: 'address_rate' };
    }
    return undefined;
  }

  /**
   * An upgrade about to wait on authentication: each holds its request and a socket until the
   * store answers, so a slow store under a reconnect storm must not pile them up without bound.
   * `settled` must be called exactly once when it is over (answered or aborted).
   */
  beginPending(): { refusal: UpgradeRefusal } | { settled: () => void } {
    if (this.pending >= this.limits.maxPendingUpgrades) {
      this.refused.labels('pending_upgrades').inc();
      return { refusal: { status: 503, reason: 'pending_upgrades' } };
    }
    this.pending += 1;
    let done = false;
    return {
      settled: () => {
        if (done) return;
        done = true;
        this.pending -= 1;
      },
    };
  }

  socketOpened(): void {
    this.open += 1;
  }

  socketClosed(): void {
    this.open -= 1;
  }

  /** A CALL limiter for one new socket. */
  callLimiter(now: number): CallLimiter {
    return new CallLimiter(this, new TokenBucket(this.limits.callsPerS, this.limits.callBurst, now));
  }

  private sweep(now: number): void {
    for (const [address, bucket] of this.addresses) if (bucket.full(now)) this.addresses.delete(address);
  }
}

export type CallVerdict = 'pass' | 'refuse' | 'close';

/** OCPP-J 1.6 §4.1.3: a CALL is `[2, ...`; answers (3, 4) are never limited, a backend waits for them. */
const CALL_PREFIX = /^\s*\[\s*2\s*,/;

/** Per socket: a token bucket of CALLs, and how many were refused since the last one passed. */
export class CallLimiter {
  private refusedInRow = 0;

  constructor(
    private readonly admission: Admission,
    private readonly bucket: TokenBucket,
  ) {}

  check(text: string, now: number): CallVerdict {
    if (!CALL_PREFIX.test(text)) return 'pass';
    if (this.bucket.take(now)) {
      this.refusedInRow = 0;
      return 'pass';
    }
    this.refusedInRow += 1;
    if (this.refusedInRow >= this.admission.limits.refusedCallsBeforeClose) {
      this.admission.refused.labels('call_rate_close').inc();
      return 'close';
    }
    this.admission.refused.labels('call_rate').inc();
    return 'refuse';
  }
}

/**
 * The CALLERROR for a refused CALL (OCPP-J 1.6 §4.2.3), or undefined when the text has no
 * usable message id (nothing to answer to).
 */
function rateLimitedCallError(text: string): string | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(frame) || typeof frame[1] !== 'string') return undefined;
  return JSON.stringify([
    4,
    frame[1],
    'GenericError',
    'message rate limit exceeded',
    { reason: 'rate_limited' },
  ]);
}

/**
 * A CALL over the connection's rate: answered with a CALLERROR and not published; after too many
 * in a row the station is not listening to them, and the socket is closed with 1008 (policy
 * violation, RFC 6455 §7.4.1).
 */
export function refuseCall(session: Session, text: string, verdict: Exclude<CallVerdict, 'pass'>): void {
  if (verdict === 'close') {
    session.close(1008, 'message rate limit', 'call_rate');
    return;
  }
  const answer = rateLimitedCallError(text);
  if (answer !== undefined) session.write(answer);
}
