import { Counter, Gauge, type Registry } from 'prom-client';

export type TlsReloadResult = 'ok' | 'failed';
const RESULTS: readonly TlsReloadResult[] = ['ok', 'failed'];

/** Metrics of the wss listener, registered on the node's registry when TLS is configured. */
export class TlsMetrics {
  readonly reloads: Counter<'result'>;
  readonly notAfter: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reloads = new Counter({
      name: 'ocpp_gateway_tls_reloads_total',
      help: 'Certificate and key reloads of the wss listener (SIGHUP or file change) by result',
      labelNames: ['result'],
      registers,
    });
    for (const result of RESULTS) this.reloads.labels(result).inc(0);
    this.notAfter = new Gauge({
      name: 'ocpp_gateway_tls_certificate_not_after_seconds',
      help: 'Expiry (Unix time) of the certificate the wss listener serves',
      registers,
    });
  }
}
