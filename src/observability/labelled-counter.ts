import { Counter, type Registry } from 'prom-client';

export interface LabelledCounterOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  /** The one label, with a bounded set of values. */
  readonly label: L;
  /** Every value the label can take; each series starts at 0. */
  readonly values: Iterable<string>;
  readonly registry: Registry;
}

/**
 * A counter with one bounded label whose every known value is exported from the start at 0
 * (docs/architecture.md §6.5), so rate() and increase() see the first event: an alert on the
 * first failure of a kind would otherwise miss it.
 */
export function labelledCounter<L extends string>(options: LabelledCounterOptions<L>): Counter<L> {
  const counter = new Counter<L>({
    name: options.name,
    help: options.help,
    labelNames: [options.label],
    registers: [options.registry],
  });
  for (const value of options.values) counter.labels(value).inc(0);
  return counter;
}
