import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { isSupportedSubprotocol, SUBPROTOCOLS, type Subprotocol } from '../ocpp/versions/index.js';
import { parseAuth } from './auth.js';
import { parseCluster } from './cluster.js';
import { parseCompression } from './compression.js';
import { parseDownstreamSubscribe, parseDrainUnsubscribe } from './downstream.js';
import { Reader, type Env } from './env-reader.js';
import { parseMqtt } from './mqtt.js';
import { parseAdmission } from './admission.js';
import { parseTls } from './tls.js';
import { parseTopics } from './topics.js';
import type { Config } from './types.js';

export type {
  AdmissionConfig,
  ClusterConfig,
  Config,
  LogLevel,
  MqttProtocolVersion,
  SchemaMode,
  TlsConfig,
} from './types.js';

/**
 * The gateway's whole configuration, read once from `OCPP_GW_*` variables, validated (every
 * problem reported at once) and deep-frozen. Units are in the names. Each field is documented in
 * the README table with its default; keep the two in step.
 */

function parseSubprotocols(r: Reader): Subprotocol[] {
  const list = r
    .string('SUBPROTOCOLS', SUBPROTOCOLS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((s) => !isSupportedSubprotocol(s));
  if (bad.length > 0 || list.length === 0) {
    r.fail(
      'SUBPROTOCOLS',
      `unsupported subprotocol(s) ${bad.join(', ') || '(empty)'}; this build supports ${SUBPROTOCOLS.join(', ')}`,
    );
    return [...SUBPROTOCOLS];
  }
  return list as Subprotocol[];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Parses the environment once. Throws {@link ConfigError} listing every invalid variable. */
export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const nodeId = r.string('NODE_ID', hostname());
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) r.fail('NODE_ID', 'must be 1..64 of A-Z a-z 0-9 . _ -');
  const path = r.string('PATH', '/ocpp').replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path === '')
    r.fail('PATH', 'must be an absolute URL path such as /ocpp');
  const callTimeoutMs = r.int('CALL_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const cluster = parseCluster(r, callTimeoutMs);
  const mqtt = parseMqtt(r, nodeId);
  const config: Config = {
    nodeId,
    host: r.string('HOST', '0.0.0.0'),
    port: r.int('PORT', 33033, 0, 65535),
    path,
    subprotocols: parseSubprotocols(r),
    requireSubprotocol: r.bool('REQUIRE_SUBPROTOCOL', true),
    compression: parseCompression(r),
    maxFrameBytes: r.int('MAX_FRAME_BYTES', 262_144, 1024, 16 * 1024 * 1024),
    maxHeaderBytes: r.int('MAX_HEADER_BYTES', 16_384, 1024, 262_144),
    fdReserve: r.int('FD_RESERVE', 128, 16, 1_048_576),
    maxBackpressureBytes: r.int('MAX_BACKPRESSURE_BYTES', 1_048_576, 4096, 64 * 1024 * 1024),
    idleTimeoutS: r.int('IDLE_TIMEOUT_S', 120, 8, 960),
    heartbeatIntervalS: r.int('HEARTBEAT_INTERVAL_S', 60, 0, 86_400),
    heartbeatBackoff: r.int('HEARTBEAT_BACKOFF', 2, 1, 100),
    callTimeoutMs,
    maxQueueLength: r.int('MAX_QUEUE_LENGTH', 100, 0, 100_000),
    schemaValidation: r.oneOf('SCHEMA_VALIDATION', ['disable', 'upstream', 'downstream', 'all'], 'disable'),
    drainSeconds: r.int('DRAIN_SECONDS', 10, 0, 3600),
    heapSettleS: r.int('HEAP_SETTLE_S', 10, 0, 3600),
    http: { host: r.string('HTTP_HOST', '0.0.0.0'), port: r.int('HTTP_PORT', 9464, 0, 65535) },
    mqtt,
    topics: parseTopics(r),
    cluster,
    downstreamSubscribe: parseDownstreamSubscribe(r, cluster !== undefined),
    drainUnsubscribe: parseDrainUnsubscribe(r, mqtt.url !== undefined, mqtt.sessionExpiryS),
    tls: parseTls(r),
    admission: parseAdmission(r),
    auth: parseAuth(r, cluster !== undefined),
    adminToken: r.raw('ADMIN_TOKEN'),
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  };
  if (config.adminToken !== undefined && config.adminToken.length < 16) {
    r.fail('ADMIN_TOKEN', 'must be at least 16 characters');
  }
  if (config.idleTimeoutS % 4 !== 0)
    r.fail('IDLE_TIMEOUT_S', 'must be a multiple of 4 (uWebSockets.js rule)');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}
