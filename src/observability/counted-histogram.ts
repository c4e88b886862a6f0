import type { Registry } from 'prom-client';

/** One label set's buckets: `counts[i]` values in (bounds[i-1], bounds[i]], the last one above every bound. */
export class HistogramSeries {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** A value that is not a finite number is not counted (prom-client would throw on it). */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }

  /** The samples of the exposition: cumulative `_bucket` per bound and `+Inf`, `_sum`, `_count`. */
  samples(name: string): HistogramSample[] {
    const out: HistogramSample[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += this.counts[i] as number;
      out.push({ metricName: `${name}_bucket`, labels: { ...this.labels, le }, value: cumulative });
    });
    out.push({ metricName: `${name}_bucket`, labels: { ...this.labels, le: '+Inf' }, value: this.count });
    out.push({ metricName: `${name}_sum`, labels: { ...this.labels }, value: this.sum });
    out.push({ metricName: `${name}_count`, labels: { ...this.labels }, value: this.count });
    return out;
  }
}

export interface HistogramSample {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

export interface CountedHistogramOptions {
  readonly name: string;
  readonly help: string;
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  /** At most one label: the gateway's histograms have none or a bounded `action`. */
  readonly labelName?: string;
  readonly registry: Registry;
}

/**
 * A Prometheus histogram counted in plain arrays (docs/architecture.md §6.5): `observe` is a
 * scan over a dozen bounds and three additions. prom-client's `Histogram.observe` builds a label
 * object, validates it and hashes it into a string key on every call; on a round trip that ran
 * two or three times (publish duration, call duration, route round trip), about 1.5 % of an
 * owner node's samples in a forwarded-command profile (bench/RESULTS.md). What a scrape reads is
 * what prom-client's histogram would print for the same observations: the registry formats the
 * samples from {@link get}, and test/unit/counted-histogram.test.ts compares both expositions.
 */
export class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly labelName: string | undefined;
  /** By label value ('' when unlabelled), in the order first observed. */
  private readonly series = new Map<string, HistogramSeries>();

  constructor(options: CountedHistogramOptions) {
    ({ name: this.name, help: this.help, labelName: this.labelName } = options);
    this.bounds = Object.freeze([...options.buckets].sort((a, b) => a - b));
    // A histogram without labels has its one series from the start, at zero (as prom-client's).
    if (this.labelName === undefined) this.series.set('', new HistogramSeries(this.bounds, {}));
    // The registry keeps any object with a name and get(); its Metric type is a union of its classes.
    options.registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of one label value (of the unlabelled histogram when none is given); kept, so cache it. */
  child(labelValue = ''): HistogramSeries {
    let series = this.series.get(labelValue);
    if (series === undefined) {
      const labels: Record<string, string> =
        this.labelName === undefined ? {} : { [this.labelName]: labelValue };
      series = new HistogramSeries(this.bounds, labels);
      this.series.set(labelValue, series);
    }
    return series;
  }

  observe(value: number): void {
    this.child().observe(value);
  }

  /** What the registry formats on a scrape (the shape of prom-client's own `get()`). */
  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: HistogramSample[];
  }> {
    const values = [...this.series.values()].flatMap((series) => series.samples(this.name));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  /** Forgets every observation (tests; prom-client's `reset`). */
  reset(): void {
    const unlabelled = this.labelName === undefined;
    this.series.clear();
    if (unlabelled) this.series.set('', new HistogramSeries(this.bounds, {}));
  }
}
