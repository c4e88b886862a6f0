import { Gauge, type Counter, type Registry } from 'prom-client';
import { labelledCounter } from '../observability/labelled-counter.js';

export type TlsReloadResult = 'ok' | 'failed';
const RESULTS: readonly TlsReloadResult[] = ['ok', 'failed'];

/** Metrics of the wss listener, registered on the node's registry when TLS is configured. */
export class TlsMetrics {
  readonly reloads: Counter<'result'>;
  readonly notAfter: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reloads = labelledCounter({
      name: 'ocpp_gateway_tls_reloads_total',
      help: 'Certificate and key reloads of the wss listener (SIGHUP or file change) by result',
      label: 'result',
      values: RESULTS,
      registry,
    });
    this.notAfter = new Gauge({
      name: 'ocpp_gateway_tls_certificate_not_after_seconds',
      help: 'Expiry (Unix time) of the certificate the wss listener serves',
      registers,
    });
  }
}
