import { hostname } from 'node:os';
import { ConfigError, type ConfigProblem } from './errors.js';
import { isSupportedSubprotocol, type Subprotocol } from './ocpp/versions.js';

/**
 * The gateway's whole configuration, read once from `OCPP_GW_*` variables, validated (every
 * problem reported at once) and deep-frozen. Units are in the names. Each field is documented in
 * the README table with its default; keep the two in step.
 */

export type SchemaMode = 'disable' | 'upstream' | 'downstream' | 'all';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type MqttProtocolVersion = 4 | 5;

export interface Config {
  readonly nodeId: string;
  readonly host: string;
  /** @default 33033 (0 picks a free port, for tests) */
  readonly port: number;
  /** @default '/ocpp' */
  readonly path: string;
  readonly subprotocols: readonly Subprotocol[];
  /** Reject upgrades without Sec-WebSocket-Protocol (400). @default true */
  readonly requireSubprotocol: boolean;
  readonly maxFrameBytes: number;
  /**
   * Largest upgrade request head (request line, header lines, blank line); uWS answers a larger
   * one with 431. Applied through UWS_HTTP_MAX_HEADERS_SIZE before uWS loads. @default 16384
   */
  readonly maxHeaderBytes: number;
  /**
   * Descriptors kept free below the soft RLIMIT_NOFILE for the HTTP port, MQTT and Redis
   * reconnects and the process itself; upgrades past `limit - reserve` get 503. @default 128
   */
  readonly fdReserve: number;
  readonly maxBackpressureBytes: number;
  /** uWS idle timeout; the gateway pings automatically before it. @default 120 */
  readonly idleTimeoutS: number;
  readonly heartbeatIntervalS: number;
  readonly heartbeatBackoff: number;
  readonly callTimeoutMs: number;
  readonly maxQueueLength: number;
  readonly schemaValidation: SchemaMode;
  readonly drainSeconds: number;
  readonly http: { readonly host: string; readonly port: number };
  readonly mqtt: {
    /** undefined: run the embedded broker and connect to it. */
    readonly url: string | undefined;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly clientId: string;
    readonly protocolVersion: MqttProtocolVersion;
    /** undefined: plain subscription, for a single node on a broker without `$share`. */
    readonly sharedGroup: string | undefined;
    readonly upstreamQos: 0 | 1 | 2;
    /** QoS>0 publishes held while the broker is away or its Receive Maximum is reached. */
    readonly maxBacklog: number;
    /**
     * MQTT session kept by the broker for this node after a disconnect (MQTT 5 Session Expiry
     * Interval); 0 = clean session. Unacknowledged commands stay with the broker (DESIGN §4).
     */
    readonly sessionExpiryS: number;
    readonly embeddedHost: string;
    readonly embeddedPort: number;
  };
  readonly topics: {
    readonly mountpoint: string;
    readonly upstream: string;
    readonly upstreamOverrides: Readonly<Record<string, string>>;
    readonly reply: string;
    readonly error: string;
    readonly downstream: string;
    /** undefined when presence events are turned off. */
    readonly presence: string | undefined;
    readonly diagnostics: string;
  };
  /** undefined: single-node mode (in-memory registry, no route bus). */
  readonly cluster: ClusterConfig | undefined;
  readonly logLevel: LogLevel;
  /** Bearer token of the admin API; undefined turns the API off. */
  readonly adminToken: string | undefined;
}

export interface ClusterConfig {
  /** Standalone Redis (redis:// or rediss://, ACL user and password in the URL). */
  readonly redisUrl: string | undefined;
  /** Redis Cluster seed nodes `host:port`; non-empty means cluster mode with sharded pub/sub. */
  readonly clusterNodes: readonly { readonly host: string; readonly port: number }[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
  /** Key and channel prefix: `{prefix}:owner:{cid}`, `{prefix}:node:{id}`, `{prefix}:route:{id}`. */
  readonly prefix: string;
  readonly heartbeatMs: number;
  /** A node whose liveness key is older than this is dead (its entries are stale). */
  readonly nodeTtlMs: number;
  /** Owner entries expire after this unless re-asserted (cleans up CPs that never return). */
  readonly ownerTtlS: number;
  /** How long a routing node waits for the owner's outcome before answering `timeout`. */
  readonly routeTimeoutMs: number;
  /** Adopt the MQTT session of a dead node to answer the commands it held (DESIGN §4). */
  readonly adoptSessions: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[`OCPP_GW_${name}`];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private problem(name: string, problem: string): void {
    this.problems.push({ variable: `OCPP_GW_${name}`, value: this.env[`OCPP_GW_${name}`], problem });
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.problem(name, `must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1' || raw === 'yes') return true;
    if (raw === 'false' || raw === '0' || raw === 'no') return false;
    this.problem(name, 'must be true or false');
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problem(name, `must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  url(name: string, schemes: readonly string[]): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!schemes.includes(url.protocol.replace(/:$/, ''))) {
        this.problem(name, `scheme must be one of ${schemes.join(', ')}`);
      }
    } catch {
      this.problem(name, 'is not a valid URL');
    }
    return raw;
  }

  template(name: string, fallback: string, placeholders: readonly string[]): string {
    const value = this.string(name, fallback);
    for (const match of value.matchAll(/\$\{([^}]*)\}/g)) {
      if (!placeholders.includes(match[1] ?? '')) {
        this.problem(name, `unknown placeholder \${${match[1]}}; allowed: ${placeholders.join(', ')}`);
      }
    }
    if (value.includes('\0')) this.problem(name, 'must not contain NUL');
    return value;
  }

  fail(name: string, problem: string): void {
    this.problem(name, problem);
  }
}

const UPSTREAM_PLACEHOLDERS = ['cid', 'clientid', 'action', 'id', 'type'] as const;
const DOWNSTREAM_PLACEHOLDERS = ['cid', 'clientid'] as const;

function parseOverrides(r: Reader): Record<string, string> {
  const raw = r.raw('UPSTREAM_TOPIC_OVERRIDES');
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    r.fail('UPSTREAM_TOPIC_OVERRIDES', 'must be a JSON object {"Action":"topic template"}');
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    r.fail('UPSTREAM_TOPIC_OVERRIDES', 'must be a JSON object {"Action":"topic template"}');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [action, template] of Object.entries(parsed)) {
    if (typeof template !== 'string' || template === '' || /[+#]/.test(template)) {
      r.fail('UPSTREAM_TOPIC_OVERRIDES', `topic for ${action} must be a non-empty topic without wildcards`);
    } else {
      out[action] = template;
    }
  }
  return out;
}

function parseSubprotocols(r: Reader): Subprotocol[] {
  const list = r
    .string('SUBPROTOCOLS', 'ocpp1.6')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((s) => !isSupportedSubprotocol(s));
  if (bad.length > 0 || list.length === 0) {
    r.fail(
      'SUBPROTOCOLS',
      `unsupported subprotocol(s) ${bad.join(', ') || '(empty)'}; this build supports ocpp1.6`,
    );
    return ['ocpp1.6'];
  }
  return list as Subprotocol[];
}

function parseClusterNodes(r: Reader): { host: string; port: number }[] {
  const raw = r.raw('REDIS_CLUSTER_NODES');
  if (raw === undefined) return [];
  const nodes: { host: string; port: number }[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (match?.[1] === undefined || port < 1 || port > 65535) {
      r.fail('REDIS_CLUSTER_NODES', `"${item}" is not host:port`);
      continue;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

/** Cluster mode (DESIGN §4) is on when a Redis URL or Redis Cluster seed nodes are given. */
function parseCluster(r: Reader, callTimeoutMs: number): ClusterConfig | undefined {
  const redisUrl = r.url('REDIS_URL', ['redis', 'rediss']);
  const clusterNodes = parseClusterNodes(r);
  if (redisUrl === undefined && clusterNodes.length === 0) return undefined;
  const named = r.problems.some((p) => p.variable.startsWith('OCPP_GW_REDIS_'));
  if (redisUrl !== undefined && clusterNodes.length > 0 && !named)
    r.fail('REDIS_CLUSTER_NODES', 'set either OCPP_GW_REDIS_URL (standalone Redis) or this, not both');
  const prefix = r.string('REDIS_PREFIX', 'ocpp-gw');
  if (!/^[A-Za-z0-9._:{}-]{1,64}$/.test(prefix))
    r.fail('REDIS_PREFIX', 'must be 1..64 of A-Z a-z 0-9 . _ : { } -');
  const heartbeatMs = r.int('NODE_HEARTBEAT_MS', 1500, 100, 60_000);
  const nodeTtlMs = r.int('NODE_TTL_MS', 6000, 300, 600_000);
  if (nodeTtlMs < heartbeatMs * 2) r.fail('NODE_TTL_MS', 'must be at least twice OCPP_GW_NODE_HEARTBEAT_MS');
  let tls = r.bool('REDIS_TLS', false);
  if (redisUrl?.startsWith('rediss:') === true) tls = true;
  return {
    redisUrl,
    clusterNodes,
    username: r.raw('REDIS_USERNAME'),
    password: r.raw('REDIS_PASSWORD'),
    tls,
    prefix,
    heartbeatMs,
    nodeTtlMs,
    ownerTtlS: r.int('OWNER_TTL_S', 86_400, 60, 30 * 86_400),
    routeTimeoutMs: r.int('ROUTE_TIMEOUT_MS', callTimeoutMs * 2 + 10_000, 1000, 86_400_000),
    adoptSessions: r.bool('ADOPT_SESSIONS', true),
  };
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
  const mountpoint = r.string('TOPIC_PREFIX', 'ocpp/');
  if (/[+#\0]/.test(mountpoint)) r.fail('TOPIC_PREFIX', 'must not contain + # or NUL');
  const presenceOn = r.bool('PRESENCE_ENABLED', true);
  const presence = r.template('PRESENCE_TOPIC', 'events/${cid}/${event}', ['cid', 'clientid', 'event']);
  const downstream = r.template('DOWNSTREAM_TOPIC', 'cs/${cid}', DOWNSTREAM_PLACEHOLDERS);
  if (!downstream.includes('${cid}') && !downstream.includes('${clientid}')) {
    r.fail('DOWNSTREAM_TOPIC', 'must contain ${cid}: the gateway reads the charge point id from the topic');
  }
  const callTimeoutMs = r.int('CALL_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const mqttUrl = r.url('MQTT_URL', ['mqtt', 'mqtts', 'tcp', 'tls', 'ws', 'wss']);
  const config: Config = {
    nodeId,
    host: r.string('HOST', '0.0.0.0'),
    port: r.int('PORT', 33033, 0, 65535),
    path,
    subprotocols: parseSubprotocols(r),
    requireSubprotocol: r.bool('REQUIRE_SUBPROTOCOL', true),
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
    http: { host: r.string('HTTP_HOST', '0.0.0.0'), port: r.int('HTTP_PORT', 9464, 0, 65535) },
    mqtt: {
      url: mqttUrl,
      username: r.raw('MQTT_USERNAME'),
      password: r.raw('MQTT_PASSWORD'),
      clientId: r.string('MQTT_CLIENT_ID', `ocpp-gw-${nodeId}`),
      protocolVersion: r.int('MQTT_PROTOCOL_VERSION', 5, 4, 5) as MqttProtocolVersion,
      sharedGroup: r.bool('MQTT_SHARED_SUBSCRIPTION', true)
        ? r.string('MQTT_SHARED_GROUP', 'ocpp-gateway')
        : undefined,
      upstreamQos: r.int('UPSTREAM_QOS', 2, 0, 2) as 0 | 1 | 2,
      maxBacklog: r.int('MQTT_MAX_BACKLOG', 100_000, 0, 10_000_000),
      sessionExpiryS: r.int('MQTT_SESSION_EXPIRY_S', 300, 0, 4_294_967_295),
      embeddedHost: r.string('EMBEDDED_MQTT_HOST', '0.0.0.0'),
      embeddedPort: r.int('EMBEDDED_MQTT_PORT', 1883, 0, 65535),
    },
    topics: {
      mountpoint,
      upstream: r.template('UPSTREAM_TOPIC', 'cp/${cid}', UPSTREAM_PLACEHOLDERS),
      upstreamOverrides: parseOverrides(r),
      reply: r.template('UPSTREAM_REPLY_TOPIC', 'cp/${cid}/Reply', UPSTREAM_PLACEHOLDERS),
      error: r.template('UPSTREAM_ERROR_TOPIC', 'cp/${cid}/Reply', UPSTREAM_PLACEHOLDERS),
      downstream,
      presence: presenceOn ? presence : undefined,
      diagnostics: r.template('DIAGNOSTICS_TOPIC', 'gw/diagnostics', []),
    },
    cluster: parseCluster(r, callTimeoutMs),
    adminToken: r.raw('ADMIN_TOKEN'),
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  };
  if (config.mqtt.sharedGroup !== undefined && /[/+#]/.test(config.mqtt.sharedGroup)) {
    r.fail('MQTT_SHARED_GROUP', 'must not contain / + #');
  }
  if (config.adminToken !== undefined && config.adminToken.length < 16) {
    r.fail('ADMIN_TOKEN', 'must be at least 16 characters');
  }
  if (config.idleTimeoutS % 4 !== 0)
    r.fail('IDLE_TIMEOUT_S', 'must be a multiple of 4 (uWebSockets.js rule)');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}
