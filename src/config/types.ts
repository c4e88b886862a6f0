import type { Subprotocol } from '../ocpp/versions/index.js';

/**
 * The shape of the gateway's configuration (loaded by config/index.ts). Units are in the names;
 * every field is documented in the README table with its default.
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
     * Interval); 0 = clean session. Unacknowledged commands stay with the broker (docs/architecture.md §4.3).
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
  /** Adopt the MQTT session of a dead node to answer the commands it held (docs/architecture.md §5.8). */
  readonly adoptSessions: boolean;
}
