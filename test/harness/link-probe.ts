import { pino } from 'pino';
import { MqttLink, type MqttLinkOptions } from '../../src/bridge/mqtt-link.js';
import { Metrics } from '../../src/observability/metrics.js';

/** An MqttLink in the test process, its metrics, and its log lines as parsed JSON. */
export interface LinkProbe {
  readonly link: MqttLink;
  readonly metrics: Metrics;
  readonly logs: Record<string, unknown>[];
  /** Log lines with this message. */
  lines(msg: string): Record<string, unknown>[];
  /** Publishes and resolves with what the link reported (undefined: acknowledged). */
  publish(topic: string, payload: string, qos: 0 | 1 | 2): Promise<Error | undefined>;
  /** Times `done` was called for publishes made through {@link publish}. */
  readonly calls: () => number;
  counter(name: string, labels?: Record<string, string>): Promise<number>;
}

export async function probeLink(url: string, options: Partial<MqttLinkOptions> = {}): Promise<LinkProbe> {
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const metrics = new Metrics('probe', '0.0.0');
  const link = await MqttLink.connect(
    {
      url,
      clientId: `probe-${Math.random().toString(36).slice(2)}`,
      username: undefined,
      password: undefined,
      protocolVersion: 5,
      maxBacklog: 1000,
      sessionExpiryS: 0,
      ...options,
    },
    log,
    metrics,
  );
  let calls = 0;
  return {
    link,
    metrics,
    logs,
    lines: (msg) => logs.filter((l) => l.msg === msg),
    publish: (topic, payload, qos) =>
      new Promise((resolve) => {
        link.publish(topic, payload, qos, undefined, (error) => {
          calls += 1;
          resolve(error);
        });
      }),
    calls: () => calls,
    async counter(name, labels = {}) {
      const metric = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
      const value = metric.find((v) =>
        Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
      );
      return value?.value ?? 0;
    },
  };
}
