import type { Target } from './targets.js';

/**
 * Where a target's memory sits, so an RSS figure can be split into V8 heap (committed and live),
 * external buffers, and the rest (native: uWS or libuv sockets, malloc, code).
 */
export interface HeapBreakdown {
  /** V8 heap committed (`heapTotal`). */
  readonly heapTotalBytes: number;
  /** V8 heap in use (`heapUsed`), live objects plus garbage not yet collected. */
  readonly heapUsedBytes: number;
  /** Memory of C++ objects bound to JS objects, Buffers included (`external`). */
  readonly externalBytes: number;
  /** Committed young generation; it grows under allocation bursts and is not given back soon. */
  readonly newSpaceTotalBytes: number | undefined;
}

/** Sample from the gateway's Prometheus endpoint (prom-client default metrics). */
async function fromMetrics(httpPort: number): Promise<HeapBreakdown | undefined> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) return undefined;
  const text = await response.text();
  const metric = (name: string, labels = ''): number | undefined => {
    const pattern = new RegExp(`^\\w*${name}${labels.replace(/[{}"]/g, '\\$&')}\\s+(\\S+)$`, 'm');
    const match = pattern.exec(text)?.[1];
    return match === undefined ? undefined : Number(match);
  };
  const heapTotalBytes = metric('nodejs_heap_size_total_bytes');
  const heapUsedBytes = metric('nodejs_heap_size_used_bytes');
  const externalBytes = metric('nodejs_external_memory_bytes');
  if (heapTotalBytes === undefined || heapUsedBytes === undefined || externalBytes === undefined)
    return undefined;
  return {
    heapTotalBytes,
    heapUsedBytes,
    externalBytes,
    newSpaceTotalBytes: metric('nodejs_heap_space_size_total_bytes', '{space="new"}'),
  };
}

/** Sample from the peer, which logs `process.memoryUsage()` on SIGUSR2. */
async function fromPeerSignal(target: Target): Promise<HeapBreakdown> {
  const line = target.process.waitForJson((l) => l.msg === 'peer memory', 5000, 'peer memory');
  process.kill(target.process.pid, 'SIGUSR2');
  return (await line) as unknown as HeapBreakdown;
}

/** A best-effort breakdown: undefined when the target does not expose one. */
export async function heapBreakdown(target: Target): Promise<HeapBreakdown | undefined> {
  try {
    if (target.kind === 'peer') return await fromPeerSignal(target);
    return target.httpPort === undefined ? undefined : await fromMetrics(target.httpPort);
  } catch {
    return undefined;
  }
}
