import { readFileSync } from 'node:fs';
import { requiredEnv } from './env.js';
import { WebSocket, type RawData } from 'ws';
import { SUBPROTOCOL, bootNotificationFrame, isAcceptedResult } from './ocpp-frames.js';
import { stationClientOptions, stationTls, type StationTls } from './station-tls.js';
import type { BootCounts } from './swarm-protocol.js';
import { SourcePorts, isPortError } from './source-ports.js';

/** One simulated charge point: a `ws` client that has sent its BootNotification. */
export interface SimulatedCp {
  readonly index: number;
  readonly id: string;
  readonly socket: WebSocket;
  booted: boolean;
  /** Frames after the boot reply go here; the stream bench counts unexpected ones. */
  onFrame: (text: string) => void;
}

export interface SwarmOptions {
  /**
   * `ws://127.0.0.1:<port>/ocpp/`; several (one per cluster node) split the CPs into consecutive
   * blocks, CP i going to `baseUrls[floor(i * n / count)]`.
   */
  readonly baseUrls: readonly string[];
  readonly idPrefix: string;
  readonly count: number;
  /** New connections per second from this process. */
  readonly ratePerS: number;
  /** Upper bound on CPs that are connecting or waiting for their boot reply. */
  readonly maxPending: number;
  /** The phase ends here even if CPs are still pending; they are counted in `bootPending`. */
  readonly deadlineMs: number;
  /**
   * Source address (127.0.0.x) of every socket, so that several generators on one machine do
   * not share one address's ephemeral ports. @default the kernel's choice
   */
  readonly localAddress?: string;
  /** Called when a socket opens, before its BootNotification: e.g. to answer CALLs from then on. */
  readonly onOpen?: (cp: SimulatedCp) => void;
  /**
   * Reconnect like a station instead of counting a failure once (the reconnect storm): a failed
   * handshake, a close before the boot reply, or no boot reply within `bootTimeoutMs` is tried
   * again after a back-off until the CP boots or the deadline passes. @default no retries
   */
  readonly retry?: RetryPolicy;
  /** Send `Authorization: Basic` with the station's bench password (station-tls.ts). */
  readonly basicAuth?: boolean;
  /** Connect over TLS (`wss://` base URLs) trusting this CA, keeping session tickets. */
  readonly tls?: StationTls;
}

/**
 * A station's reconnect back-off, after OCPP 2.0.1's OCPPCommCtrlr variables: wait
 * `RetryBackOffWaitMinimum`, doubled on each further attempt up to `maxWaitMs`, plus a random
 * part up to `RetryBackOffRandomRange`, so stations that lost their node together do not all come
 * back in the same instant again.
 */
export interface RetryPolicy {
  readonly minWaitMs: number;
  readonly randomRangeMs: number;
  readonly maxWaitMs: number;
  /** An opened CP with no boot reply by then closes and tries again. */
  readonly bootTimeoutMs: number;
}

/** Back-off before attempt `attempt + 1` (attempt 1 failed: the first retry). */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const doubled = policy.minWaitMs * 2 ** Math.min(attempt - 1, 16);
  return Math.min(policy.maxWaitMs, doubled) + Math.random() * policy.randomRangeMs;
}

const TICK_MS = 20;

/** `ws` hands out one Buffer per message with the default binaryType ('nodebuffer'). */
function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}
const BOOT_ID = 'boot-1';
/** This process's ports on its source address (source-ports.ts: the kernel's search is slow). */
const sourcePorts = new SourcePorts();
/** Attempts on another port after a port failure before it counts as a failed connect. */
const MAX_REBINDS = 8;

/**
 * Opens `count` connections at a bounded rate, sends each a BootNotification, and resolves when
 * every CP has booted or failed (or at the deadline). Never retries: a failure is a data point.
 */
export function connectAndBoot(
  options: SwarmOptions,
  counts: BootCounts,
): Promise<{ cps: SimulatedCp[]; elapsedMs: number }> {
  const cps: SimulatedCp[] = [];
  /** Attempts that failed and were retried: left out of the result. */
  const superseded = new WeakSet<SimulatedCp>();
  const started = performance.now();
  let lastBootAt = started;
  let launched = 0;
  let pending = 0;
  let done = false;

  return new Promise((resolve) => {
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(ticker);
      clearTimeout(deadline);
      counts.bootPending = pending;
      const current = options.retry === undefined ? cps : cps.filter((cp) => !superseded.has(cp));
      resolve({ cps: current, elapsedMs: lastBootAt - started });
    };
    const settle = (): void => {
      pending--;
      if (launched === options.count && pending === 0) finish();
    };

    const launch = (index: number, attempt = 1, rebinds = 0): void => {
      const id = `${options.idPrefix}${index}`;
      const localPort = options.localAddress === undefined ? undefined : sourcePorts.take();
      const baseUrl = options.baseUrls[Math.floor((index * options.baseUrls.length) / options.count)] ?? '';
      const socket = new WebSocket(`${baseUrl}${encodeURIComponent(id)}`, SUBPROTOCOL, {
        // BENCH_DEFLATE=1: offer permessage-deflate (RFC 7692), as many 2.x stations do, and
        // compress every frame (ws compresses only from 1 KiB by default); the gateway negotiates
        // it under OCPP_GW_COMPRESSION=shared (its default).
        perMessageDeflate: process.env.BENCH_DEFLATE === '1' ? { threshold: 0 } : false,
        handshakeTimeout: 30_000,
        localAddress: options.localAddress,
        localPort,
        ...stationClientOptions(id, options.basicAuth === true, options.tls),
      });
      const cp: SimulatedCp = { index, id, socket, booted: false, onFrame: () => {} };
      let opened = false;
      let settled = false;
      /** The port was taken after all: the same attempt again on another port, not a failure. */
      let rebind = false;
      let bootTimer: NodeJS.Timeout | undefined;
      const settleOnce = (): void => {
        if (!settled) {
          settled = true;
          clearTimeout(bootTimer);
          settle();
        }
      };
      /** This attempt failed: settle it, or with a retry policy try again after the back-off. */
      const failed = (): void => {
        const { retry } = options;
        if (settled || cp.booted) return;
        if (retry === undefined || done) {
          settleOnce();
          return;
        }
        settled = true;
        clearTimeout(bootTimer);
        superseded.add(cp);
        counts.retries++;
        setTimeout(
          () => {
            if (!done) launch(index, attempt + 1);
          },
          retryDelayMs(retry, attempt),
        );
      };
      socket.on('open', () => {
        opened = true;
        counts.opened++;
        cps.push(cp);
        options.onOpen?.(cp);
        socket.send(bootNotificationFrame(BOOT_ID));
        if (options.retry !== undefined) {
          bootTimer = setTimeout(() => {
            counts.bootTimeouts++;
            failed();
            socket.terminate();
          }, options.retry.bootTimeoutMs);
        }
      });
      socket.on('message', (data, isBinary) => {
        const text = isBinary ? '' : textOf(data);
        if (!cp.booted && isAcceptedResult(text, BOOT_ID)) {
          cp.booted = true;
          counts.booted++;
          lastBootAt = performance.now();
          settleOnce();
        } else {
          cp.onFrame(text);
        }
      });
      socket.on('error', (err) => {
        if (!opened && localPort !== undefined && rebinds < MAX_REBINDS && isPortError(err)) {
          rebind = true;
          return;
        }
        if (!opened) {
          counts.connectErrors++;
          counts.firstError ??= err.message;
        }
      });
      socket.on('close', () => {
        if (localPort !== undefined) sourcePorts.give(localPort);
        if (rebind) {
          if (!done) launch(index, attempt, rebinds + 1);
          else settleOnce();
          return;
        }
        if (opened) counts.closedAfterOpen++;
        failed();
      });
    };

    const tick = (): void => {
      const due = Math.min(
        options.count,
        Math.floor(((performance.now() - started) / 1000) * options.ratePerS) + 1,
      );
      while (launched < due && pending < options.maxPending) {
        pending++;
        launch(launched++);
      }
    };
    if (options.baseUrls.length === 0) throw new Error('connectAndBoot: no base URL');
    const ticker = setInterval(tick, TICK_MS);
    const deadline = setTimeout(finish, options.deadlineMs);
    if (options.count === 0) finish();
    else tick();
  });
}

/**
 * The swarm settings a load-generator child gets from its parent: `SWARM_BASE_URLS` (comma list,
 * CPs spread over them in blocks) or `SWARM_BASE_URL`, and the rest as numbers; `SWARM_BASIC_AUTH=1`
 * and `SWARM_TLS_CA_FILE` (PEM) for stations at security profile 1 or 2.
 */
export function swarmOptionsFromEnv(): SwarmOptions {
  const urls = process.env.SWARM_BASE_URLS ?? requiredEnv('SWARM_BASE_URL');
  const caFile = process.env.SWARM_TLS_CA_FILE;
  return {
    baseUrls: urls.split(','),
    idPrefix: requiredEnv('SWARM_ID_PREFIX'),
    count: Number(requiredEnv('SWARM_COUNT')),
    ratePerS: Number(requiredEnv('SWARM_RATE_PER_S')),
    maxPending: Number(requiredEnv('SWARM_MAX_PENDING')),
    deadlineMs: Number(requiredEnv('SWARM_DEADLINE_MS')),
    localAddress: process.env.SWARM_LOCAL_ADDRESS,
    basicAuth: process.env.SWARM_BASIC_AUTH === '1',
    tls: caFile === undefined ? undefined : stationTls(readFileSync(caFile)),
  };
}
