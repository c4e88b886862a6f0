import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listFromEnv } from './env.js';
import { ManagedProcess, childEnv } from './processes.js';

/**
 * What a bench measures: the gateway, the `ws` + mqtt.js baseline beside it (`peer`), an
 * `ocpp-rpc` RPCServer + mqtt.js bridge (`ocpp-rpc`, bench/peer/ocpp-rpc-bridge.ts), or
 * `gateway-base`: the gateway built from another commit (its dist/src/main.js in
 * BENCH_BASE_GATEWAY_MAIN), for a before/after of one change in the same run.
 */
export type TargetKind = 'gateway' | 'gateway-base' | 'peer' | 'ocpp-rpc';
/** The memory and throughput benches' targets by default: the gateway beside both peers (issue 13). */
export const TARGET_KINDS: readonly TargetKind[] = ['gateway', 'peer', 'ocpp-rpc'];

/** BENCH_TARGETS of the memory and throughput benches: {@link TARGET_KINDS}, or also a base build. */
export function benchTargetsFromEnv(): TargetKind[] {
  return listFromEnv('BENCH_TARGETS', TARGET_KINDS, [...TARGET_KINDS, 'gateway-base']);
}

export interface Target {
  readonly kind: TargetKind;
  readonly process: ManagedProcess;
  readonly wsPort: number;
  /** The gateway's wss listener when started with OCPP_GW_TLS_CERT_FILE and _KEY_FILE. */
  readonly tlsPort: number | undefined;
  /** The gateway's metrics/health port; the peer has none. */
  readonly httpPort: number | undefined;
  /** `ws://127.0.0.1:<port>/<uuid>` when started with `inspect`. */
  readonly inspectorUrl: string | undefined;
}

export interface TargetOptions {
  readonly mqttUrl: string;
  readonly qos: 0 | 1 | 2;
  /** Open the V8 inspector on a loopback port, so the bench can force a full GC. */
  readonly inspect?: boolean;
  /** Process name in error reports; several gateway nodes of one cluster need distinct names. */
  readonly name?: string;
  /** Set over the defaults, e.g. `OCPP_GW_NODE_ID` and `OCPP_GW_REDIS_URL` for a cluster node. */
  readonly env?: Readonly<Record<string, string>>;
}

const READY_TIMEOUT_MS = 30_000;

/** Compiled entry points, relative to this file in dist/bench/lib/. */
function entryPoint(kind: TargetKind): string {
  if (kind === 'gateway' && process.env.BENCH_GATEWAY_MAIN !== undefined)
    return process.env.BENCH_GATEWAY_MAIN;
  if (kind === 'gateway-base')
    return process.env.BENCH_BASE_GATEWAY_MAIN ?? 'BENCH_BASE_GATEWAY_MAIN (unset)';
  const relative = {
    gateway: '../../src/main.js',
    'gateway-base': '',
    peer: '../peer/ws-mqtt-bridge.js',
    'ocpp-rpc': '../peer/ocpp-rpc-bridge.js',
  }[kind];
  return fileURLToPath(new URL(relative, import.meta.url));
}

/** Why a target cannot be started right now, or undefined when it can. */
export function unavailableReason(kind: TargetKind): string | undefined {
  const main = entryPoint(kind);
  return existsSync(main) ? undefined : `${main} does not exist (build the project first)`;
}

function environment(kind: TargetKind, options: TargetOptions): Record<string, string> {
  if (kind !== 'gateway' && kind !== 'gateway-base') {
    return {
      PEER_PORT: '0',
      PEER_HOST: '127.0.0.1',
      PEER_MQTT_URL: options.mqttUrl,
      PEER_QOS: String(options.qos),
    };
  }
  return {
    OCPP_GW_PORT: '0',
    OCPP_GW_HOST: '127.0.0.1',
    OCPP_GW_HTTP_PORT: '0',
    OCPP_GW_HTTP_HOST: '127.0.0.1',
    OCPP_GW_MQTT_URL: options.mqttUrl,
    OCPP_GW_UPSTREAM_QOS: String(options.qos),
    OCPP_GW_NODE_ID: 'bench',
    // `info` is the lowest level that prints the ready line; per-connection logs are debug only.
    OCPP_GW_LOG_LEVEL: 'info',
    // Idle CPs in the memory bench must not be closed by the heartbeat rule mid-measurement.
    OCPP_GW_HEARTBEAT_INTERVAL_S: '600',
    // A bench CP sends far past a real station's CALL rate; the per-connection limit
    // (docs/architecture.md, admission) would answer most of them GenericError and measure that.
    OCPP_GW_CALLS_PER_S: '1000000',
    OCPP_GW_CALL_BURST: '1000000',
    // A bench window deeper than a connection's share of the MQTT backlog would be refused too.
    OCPP_GW_MAX_PENDING_PUBLISHES_PER_CONNECTION: '1000000',
    OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '1000000',
    OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '1000000',
  };
}

/** Starts the target in its own process and waits for its ready line with the WebSocket port. */
export async function startTarget(kind: TargetKind, options: TargetOptions): Promise<Target> {
  // e.g. BENCH_TARGET_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the target under load.
  const nodeArgs = (process.env.BENCH_TARGET_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  if (options.inspect === true) nodeArgs.push('--inspect=127.0.0.1:0');
  const proc = new ManagedProcess(
    options.name ?? kind,
    process.execPath,
    [...nodeArgs, entryPoint(kind)],
    childEnv({ ...environment(kind, options), ...options.env }),
  );
  const readyMsg = kind === 'gateway' || kind === 'gateway-base' ? 'gateway ready' : 'peer ready';
  try {
    const ready = await proc.waitForJson(
      (line) => line.msg === readyMsg && typeof line.wsPort === 'number',
      READY_TIMEOUT_MS,
      `"${readyMsg}"`,
    );
    const httpPort = typeof ready.httpPort === 'number' ? ready.httpPort : undefined;
    const tlsPort = typeof ready.tlsPort === 'number' ? ready.tlsPort : undefined;
    // Node prints "Debugger listening on ws://..." on stderr before running the program.
    const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(proc.stderr())?.[1];
    return { kind, process: proc, wsPort: ready.wsPort as number, tlsPort, httpPort, inspectorUrl };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}
