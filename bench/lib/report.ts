import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where JSON results go: bench/out/ under the working directory (git-ignored); BENCH_OUT_DIR overrides. */
const OUT_DIR = resolve(process.env.BENCH_OUT_DIR ?? 'bench/out');

/** What every result file records about the run, so numbers are never read without their context. */
export function runContext(): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    command: process.argv.join(' '),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(),
    loadAverage: loadavg(),
    gitCommit: gitCommit(),
    gatewayBuildDigest: gatewayBuildDigest(),
    benchEnv: Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('BENCH_'))),
  };
}

/**
 * `git rev-parse --short HEAD`, with `-dirty` when tracked files differ from it (the digest below
 * then names the build); undefined outside a git work tree.
 */
function gitCommit(): string | undefined {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '-dirty' : ''}`;
  } catch {
    return undefined;
  }
}

/**
 * SHA-256 over the compiled gateway (dist/src/**\/*.js), so a result names the exact build it
 * measured even when the source had no commit yet.
 */
function gatewayBuildDigest(): string | undefined {
  const root = fileURLToPath(new URL('../../src/', import.meta.url));
  try {
    const files = (readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js'))
      .sort();
    const hash = createHash('sha256');
    for (const file of files) hash.update(file).update(readFileSync(join(root, file)));
    return `${hash.digest('hex').slice(0, 16)} (${files.length} files)`;
  } catch {
    return undefined;
  }
}

/** Writes `bench/out/<name>-<timestamp>.json` and returns its path. */
export function writeResult(name: string, result: unknown): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatMs(micros: number | undefined): string {
  return micros === undefined ? 'n/a' : (micros / 1000).toFixed(micros < 10_000 ? 2 : 1);
}

/** Median of the values; undefined for none (a target whose every run failed). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const percent = (value: number | undefined): string =>
  value === undefined ? 'n/a' : `${Math.round(value)} %`;
