/** Bench knobs come from `BENCH_*` variables; a bad value stops the bench before anything starts. */

export function intFromEnv(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}=${raw}: expected an integer >= ${min}`);
  }
  return value;
}

export function listFromEnv<T extends string>(
  name: string,
  fallback: readonly T[],
  allowed: readonly T[],
): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const items = raw.split(',').map((item) => item.trim());
  const bad = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (bad.length > 0)
    throw new Error(`${name}=${raw}: unknown ${bad.join(', ')}; allowed: ${allowed.join(', ')}`);
  return items as T[];
}

/** A required variable for a bench child process (set by the parent, never by a user). */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`${name} is not set (bench child started by hand?)`);
  return value;
}
