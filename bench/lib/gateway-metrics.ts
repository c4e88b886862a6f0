import { withTimeout } from '../../test/harness/time.js';

/**
 * The few series of a gateway's Prometheus `/metrics` that the routing bench reads, summed over
 * every node of a cluster. Counters only grow, so a figure for a measured window is the difference
 * of two snapshots taken around it.
 */
export interface RouteSnapshot {
  /** `ocpp_gateway_route_total` by `result` label (local, forwarded, offline, timeout, ...). */
  readonly routed: Readonly<Record<string, number>>;
  /** `ocpp_gateway_route_roundtrip_seconds` sum and count: forward -> owner's outcome. */
  readonly roundTripSeconds: number;
  readonly roundTrips: number;
  /** `ocpp_gateway_cluster_nodes` per node: the live nodes each one sees. */
  readonly nodesSeen: readonly number[];
}

const SCRAPE_TIMEOUT_MS = 5000;
const ROUTE_TOTAL = /^ocpp_gateway_route_total\{result="([a-z_]+)"\} (\S+)$/;

/** The value of an unlabelled series such as `name 12`, or `name_sum 0.5`; 0 when absent. */
function plainValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function scrape(httpPort: number): Promise<string> {
  const res = await withTimeout(
    fetch(`http://127.0.0.1:${httpPort}/metrics`),
    SCRAPE_TIMEOUT_MS,
    `GET /metrics on port ${httpPort}`,
  );
  if (!res.ok) throw new Error(`GET /metrics on port ${httpPort}: HTTP ${res.status}`);
  return res.text();
}

/** Scrapes every node (in parallel) and adds their route series up. */
export async function routeSnapshot(httpPorts: readonly number[]): Promise<RouteSnapshot> {
  const texts = await Promise.all(httpPorts.map(scrape));
  const routed: Record<string, number> = {};
  let roundTripSeconds = 0;
  let roundTrips = 0;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const match = ROUTE_TOTAL.exec(line);
      if (match?.[1] !== undefined) routed[match[1]] = (routed[match[1]] ?? 0) + Number(match[2]);
    }
    roundTripSeconds += plainValue(text, 'ocpp_gateway_route_roundtrip_seconds_sum');
    roundTrips += plainValue(text, 'ocpp_gateway_route_roundtrip_seconds_count');
  }
  const nodesSeen = texts.map((text) => plainValue(text, 'ocpp_gateway_cluster_nodes'));
  return { routed, roundTripSeconds, roundTrips, nodesSeen };
}

/** What happened between two snapshots. */
export function routeDelta(
  before: RouteSnapshot,
  after: RouteSnapshot,
): { routed: Record<string, number>; meanRoundTripMicros: number | undefined } {
  const routed: Record<string, number> = {};
  for (const [result, value] of Object.entries(after.routed)) {
    const delta = value - (before.routed[result] ?? 0);
    if (delta !== 0) routed[result] = delta;
  }
  const count = after.roundTrips - before.roundTrips;
  const seconds = after.roundTripSeconds - before.roundTripSeconds;
  return { routed, meanRoundTripMicros: count > 0 ? (seconds / count) * 1e6 : undefined };
}

/** Every series of the named counters, summed over the nodes, keyed `name{labels}`. */
export async function counterSnapshot(
  httpPorts: readonly number[],
  names: readonly string[],
): Promise<Record<string, number>> {
  const texts = await Promise.all(httpPorts.map(scrape));
  const sums: Record<string, number> = {};
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !names.some((n) => line.startsWith(`${n}{`) || line.startsWith(`${n} `)))
        continue;
      const space = line.lastIndexOf(' ');
      const key = line.slice(0, space);
      sums[key] = (sums[key] ?? 0) + Number(line.slice(space + 1));
    }
  }
  return sums;
}

/** The series that changed between two counter snapshots, and by how much. */
export function counterDelta(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) delta[key] = d;
  }
  return delta;
}
