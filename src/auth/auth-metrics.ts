import { Counter, type Registry } from 'prom-client';
import { labelledCounter } from '../observability/labelled-counter.js';

/** Why an upgrade was refused by authentication (the `reason` label, and the 401/429/503 body). */
export const AUTH_FAILURE_REASONS = [
  'missing',
  'bad_user',
  'bad_password',
  'unknown_station',
  'downgrade',
  'rate_limited',
  'bad_certificate',
  'store_unavailable',
] as const;

export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export const AUTH_METHODS = ['basic', 'client-cert'] as const;
/** `none`: OCPP_GW_AUTH_MODE=none, not counted. */
export type AuthMethod = (typeof AUTH_METHODS)[number] | 'none';

/** Authentication outcomes on the node's registry; every label starts at 0. */
export class AuthMetrics {
  readonly failures: Counter<'reason'>;
  readonly accepted: Counter<'method'>;
  readonly cacheHits: Counter;

  constructor(registry: Registry) {
    this.failures = labelledCounter({
      name: 'ocpp_gateway_auth_failures_total',
      help: 'Upgrades refused by station authentication, by reason',
      label: 'reason',
      values: AUTH_FAILURE_REASONS,
      registry,
    });
    this.accepted = labelledCounter({
      name: 'ocpp_gateway_auth_accepted_total',
      help: 'Upgrades that passed station authentication, by method',
      label: 'method',
      values: AUTH_METHODS,
      registry,
    });
    this.cacheHits = new Counter({
      name: 'ocpp_gateway_auth_cache_hits_total',
      help: 'Authentications answered from the verified-credential cache, without the store',
      registers: [registry],
    });
  }
}
