import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { CountedHistogram } from '../../src/observability/counted-histogram.js';

/**
 * CountedHistogram against prom-client's Histogram, the reference: for the same observations a
 * scrape must read the same samples (label order inside the braces may differ; Prometheus
 * ignores it, so each sample line is compared with its labels sorted).
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function normalized(exposition: string): string[] {
  return exposition
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^([^{ ]+)(?:\{(.*)\})? (.*)$/.exec(line);
      if (m === null || line.startsWith('#')) return line;
      const labels = (m[2] ?? '')
        .split(',')
        .filter((l) => l !== '')
        .sort()
        .join(',');
      return `${m[1]}{${labels}} ${m[3]}`;
    });
}

/** A small deterministic generator: the same values on every run. */
function values(count: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push((x / 2147483648) ** 3 * 40);
  }
  return out;
}

function pair(labelName?: string): {
  ours: CountedHistogram;
  reference: Histogram<string>;
  a: Registry;
  b: Registry;
} {
  const a = new Registry();
  const b = new Registry();
  const name = 'test_duration_seconds';
  const help = 'A duration';
  const ours = new CountedHistogram({
    name,
    help,
    buckets: BUCKETS,
    registry: a,
    ...(labelName ? { labelName } : {}),
  });
  const reference = new Histogram({
    name,
    help,
    buckets: BUCKETS,
    labelNames: labelName ? [labelName] : [],
    registers: [b],
  });
  return { ours, reference, a, b };
}

test('unlabelled: the same exposition as prom-client, before and after observations', async () => {
  const { ours, reference, a, b } = pair();
  assert.deepEqual(normalized(await a.metrics()), normalized(await b.metrics()));
  // Every bound itself, just above it, zero, a negative value and values past the last bound.
  const edge = [...BUCKETS, ...BUCKETS.map((v) => v + 1e-9), 0, -1, 31, 1e9];
  for (const v of [...edge, ...values(5000, 7)]) {
    ours.observe(v);
    reference.observe(v);
  }
  const text = await a.metrics();
  assert.deepEqual(normalized(text), normalized(await b.metrics()));
  assert.match(text, /^test_duration_seconds_count 5\d{3}$/m);
});

test('labelled: series appear in the order first observed, each as prom-client prints it', async () => {
  const { ours, reference, a, b } = pair('action');
  assert.deepEqual(normalized(await a.metrics()), normalized(await b.metrics()));
  const actions = ['Reset', 'other', 'GetConfiguration', 'Reset'];
  values(3000, 11).forEach((v, i) => {
    const action = actions[i % actions.length] as string;
    ours.child(action).observe(v);
    reference.labels(action).observe(v);
  });
  assert.deepEqual(normalized(await a.metrics()), normalized(await b.metrics()));
  // JSON (getMetricsAsJSON) carries the same samples too.
  const [jsonOurs] = await a.getMetricsAsJSON();
  const [jsonRef] = await b.getMetricsAsJSON();
  const samples = (list: { labels: object; value: number }[] | undefined): string[] =>
    (list ?? []).map((v) => JSON.stringify([Object.entries(v.labels).sort(), v.value])).sort();
  assert.equal(jsonOurs?.values.length, 3 * (BUCKETS.length + 3));
  assert.deepEqual(samples(jsonOurs?.values), samples(jsonRef?.values));
});

test('a cached child keeps counting into the exposed series; reset forgets', async () => {
  const { ours, a } = pair('action');
  const reset = ours.child('Reset');
  reset.observe(0.02);
  reset.observe(3);
  const text = await a.metrics();
  assert.match(text, /^test_duration_seconds_bucket\{.*le="0\.025".*\} 1$/m);
  assert.match(text, /^test_duration_seconds_bucket\{.*le="\+Inf".*\} 2$/m);
  assert.match(text, /^test_duration_seconds_sum\{action="Reset"\} 3\.02$/m);
  ours.reset();
  assert.doesNotMatch(await a.metrics(), /test_duration_seconds_count/);
});

test('a value that is not a finite number is not counted', async () => {
  const { ours, a } = pair();
  ours.observe(Number.NaN);
  ours.observe(Number.POSITIVE_INFINITY);
  ours.observe(1);
  assert.match(await a.metrics(), /^test_duration_seconds_count 1$/m);
});
