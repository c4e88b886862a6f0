/**
 * Latency histogram with logarithmic buckets (5 % wide, 1 µs to ~100 s), small enough to send
 * from a load-generator process as JSON and merge in the parent. Percentiles are read as the
 * bucket's geometric middle, so they are within about 2.5 % of the exact value.
 */
const GROWTH = 1.05;
const BUCKETS = Math.ceil(Math.log(100e6) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  readonly counts: number[];

  constructor(counts?: readonly number[]) {
    this.counts = counts === undefined ? new Array<number>(BUCKETS).fill(0) : [...counts];
    if (this.counts.length !== BUCKETS) throw new Error(`histogram needs ${BUCKETS} buckets`);
  }

  get total(): number {
    return this.counts.reduce((sum, n) => sum + n, 0);
  }

  record(micros: number): void {
    const index = micros <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / Math.log(GROWTH)));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
  }

  merge(other: LatencyHistogram): void {
    other.counts.forEach((n, i) => {
      this.counts[i] = (this.counts[i] ?? 0) + n;
    });
  }

  /** The `p`-th percentile (0 < p <= 100) in microseconds; undefined when empty. */
  percentile(p: number): number | undefined {
    const total = this.total;
    if (total === 0) return undefined;
    const rank = Math.ceil((p / 100) * total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return GROWTH ** (i + 0.5);
    }
    return GROWTH ** BUCKETS;
  }
}
