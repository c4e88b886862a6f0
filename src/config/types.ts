import type { CompressionMode } from './compression.js';
import type { Subprotocol } from '../ocpp/versions/index.js';
import type { AuthConfig } from './auth.js';

/**
 * The shape of the gateway's configuration (loaded by config/index.ts). Units are in the names;
 * every field is documented in the README table with its default.
 */
export type SchemaMode = 'disable' | 'upstream' | 'downstream' | 'all';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type MqttProtocolVersion = 4 | 5;

export interface Config {
  /** OCPP_GW_NODE_ID. @default the host name */
  readonly nodeId: string;
  /** OCPP_GW_HOST. @default '0.0.0.0' */
  readonly host: string;
  /** @default 33033 (0 picks a free port, for tests) */
  readonly port: number;
  /** @default '/ocpp' */
  readonly path: string;
  /** OCPP_GW_SUBPROTOCOLS, in the node's preference (the client's order decides). @default ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'] */
  readonly subprotocols: readonly Subprotocol[];
  /** Reject upgrades without Sec-WebSocket-Protocol (400). @default true */
  readonly requireSubprotocol: boolean;
  /** OCPP_GW_COMPRESSION: RFC 7692 permessage-deflate, `off`, `shared` or `dedicated`. @default 'shared' */
  readonly compression: CompressionMode;
  /** OCPP_GW_MAX_FRAME_BYTES. @default 262144 */
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
  /** OCPP_GW_MAX_BACKPRESSURE_BYTES. @default 1048576 */
  readonly maxBackpressureBytes: number;
  /** uWS idle timeout; the gateway pings automatically before it. @default 120 */
  readonly idleTimeoutS: number;
  /** OCPP_GW_HEARTBEAT_INTERVAL_S. @default 60 */
  readonly heartbeatIntervalS: number;
  /** OCPP_GW_HEARTBEAT_BACKOFF. @default 2 */
  readonly heartbeatBackoff: number;
  /** OCPP_GW_CALL_TIMEOUT_MS. @default 30000 */
  readonly callTimeoutMs: number;
  /** OCPP_GW_MAX_QUEUE_LENGTH. @default 100 */
  readonly maxQueueLength: number;
  /** OCPP_GW_SCHEMA_VALIDATION. @default 'disable' */
  readonly schemaValidation: SchemaMode;
  /** OCPP_GW_DRAIN_SECONDS. @default 10 */
  readonly drainSeconds: number;
  /** OCPP_GW_HEAP_SETTLE_S: quiet seconds before a burst's heap is given back (0: never, §6.8). @default 10 */
  readonly heapSettleS: number;
  /** OCPP_GW_HTTP_HOST, OCPP_GW_HTTP_PORT. @default { host: '0.0.0.0', port: 9464 } */
  readonly http: { readonly host: string; readonly port: number };
  readonly mqtt: {
    /** undefined: run the embedded broker and connect to it. @default undefined */
    readonly url: string | undefined;
    /** @default undefined */
    readonly username: string | undefined;
    /** @default undefined */
    readonly password: string | undefined;
    /**
     * OCPP_GW_MQTT_CA_FILE (the broker's private CA), OCPP_GW_MQTT_CERT_FILE and
     * OCPP_GW_MQTT_KEY_FILE (this node's client certificate), read once as PEM text.
     * @default undefined (the system CAs, no client certificate)
     */
    readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string } | undefined;
    /** OCPP_GW_MQTT_CLIENT_ID. @default `ocpp-gw-${nodeId}` */
    readonly clientId: string;
    /** OCPP_GW_MQTT_PROTOCOL_VERSION. @default 5 */
    readonly protocolVersion: MqttProtocolVersion;
    /** undefined: plain subscription, for a single node on a broker without `$share`. @default 'ocpp-gateway' */
    readonly sharedGroup: string | undefined;
    /** OCPP_GW_UPSTREAM_QOS. @default 2 */
    readonly upstreamQos: 0 | 1 | 2;
    /** QoS>0 publishes held while the broker is away or its Receive Maximum is reached. @default 100000 */
    readonly maxBacklog: number;
    /**
     * MQTT session kept by the broker for this node after a disconnect (MQTT 5 Session Expiry
     * Interval); 0 = clean session. Unacknowledged commands stay with the broker (docs/architecture.md §4.3).
     * @default 300
     */
    readonly sessionExpiryS: number;
    /**
     * OCPP_GW_MQTT_RELEASE_ORPHANS: on resuming its session, the link sends PUBREL for every packet
     * id it has nothing in flight under, releasing QoS 2 publishes an earlier connection left half
     * done (src/bridge/orphan-release.ts). @default true
     */
    readonly releaseOrphans: boolean;
    /** OCPP_GW_MQTT_KEEPALIVE_S: a silent broker is noticed within twice this. @default 15 */
    readonly keepaliveS: number;
    /** OCPP_GW_EMBEDDED_MQTT_HOST; beyond loopback only with credentials. @default '127.0.0.1' */
    readonly embeddedHost: string;
    /** OCPP_GW_EMBEDDED_MQTT_PORT. @default 1883 */
    readonly embeddedPort: number;
    /** OCPP_GW_EMBEDDED_MQTT_USERNAME: set, every broker client must log in. @default undefined */
    readonly embeddedUsername: string | undefined;
    /** OCPP_GW_EMBEDDED_MQTT_PASSWORD (never logged). @default undefined */
    readonly embeddedPassword: string | undefined;
  };
  readonly topics: {
    /** OCPP_GW_TOPIC_PREFIX. @default 'ocpp/' */
    readonly mountpoint: string;
    /** OCPP_GW_UPSTREAM_TOPIC. @default 'cp/${cid}' */
    readonly upstream: string;
    /** OCPP_GW_UPSTREAM_TOPIC_OVERRIDES. @default {} */
    readonly upstreamOverrides: Readonly<Record<string, string>>;
    /** OCPP_GW_UPSTREAM_REPLY_TOPIC. @default 'cp/${cid}/Reply' */
    readonly reply: string;
    /** OCPP_GW_UPSTREAM_ERROR_TOPIC. @default 'cp/${cid}/Reply' */
    readonly error: string;
    /** OCPP_GW_DOWNSTREAM_TOPIC. @default 'cs/${cid}' */
    readonly downstream: string;
    /**
     * OCPP_GW_PAYLOAD_VERSION_KEY: a key added to every charge-point frame's payload with its OCPP
     * version, for MQTT 3.1.1 backends; undefined keeps EMQX's payload unchanged. @default undefined
     */
    readonly payloadVersionKey: string | undefined;
    /** undefined when presence events are turned off. @default 'events/${cid}/${event}' */
    readonly presence: string | undefined;
    /** OCPP_GW_DIAGNOSTICS_TOPIC. @default 'gw/diagnostics' */
    readonly diagnostics: string;
  };
  /** undefined: single-node mode (no registry, no route bus). @default undefined */
  readonly cluster: ClusterConfig | undefined;
  /** OCPP_GW_DOWNSTREAM_SUBSCRIBE: take commands from the shared subscription (config/downstream.ts). @default true */
  readonly downstreamSubscribe: boolean;
  /** OCPP_GW_DRAIN_UNSUBSCRIBE: a draining node gives up its subscription and session (config/downstream.ts). @default true */
  readonly drainUnsubscribe: boolean;
  /** Connection, upgrade and message-rate limits. */
  readonly admission: AdmissionConfig;
  /** undefined: no wss listener (OCPP_GW_TLS_CERT_FILE and OCPP_GW_TLS_KEY_FILE unset). @default undefined */
  readonly tls: TlsConfig | undefined;
  /** OCPP_GW_LOG_LEVEL. @default 'info' */
  readonly logLevel: LogLevel;
  /** Bearer token of the admin API; undefined turns the API off. @default undefined */
  readonly adminToken: string | undefined;
  /** Station authentication (OCPP_GW_AUTH_*, client certificates): config/auth.ts. */
  readonly auth: AuthConfig;
}

export interface ClusterConfig {
  /** Standalone Redis (redis:// or rediss://, ACL user and password in the URL). @default undefined */
  readonly redisUrl: string | undefined;
  /** Redis Cluster seed nodes `host:port`; non-empty means cluster mode with sharded pub/sub. @default [] */
  readonly clusterNodes: readonly { readonly host: string; readonly port: number }[];
  /** @default undefined */
  readonly username: string | undefined;
  /** @default undefined */
  readonly password: string | undefined;
  /** OCPP_GW_REDIS_TLS. @default false (true for a rediss:// URL) */
  readonly tls: boolean;
  /** Key and channel prefix: `{prefix}:owner:{cid}`, `{prefix}:node:{id}`, `{prefix}:route:{id}`. @default 'ocpp-gw' */
  readonly prefix: string;
  /** OCPP_GW_NODE_HEARTBEAT_MS. @default 1500 */
  readonly heartbeatMs: number;
  /** A node whose liveness key is older than this is dead (its entries are stale). @default 6000 */
  readonly nodeTtlMs: number;
  /** Owner entries expire after this unless re-asserted (cleans up CPs that never return). @default 86400 */
  readonly ownerTtlS: number;
  /** How long a routing node waits for the owner's outcome before answering `timeout`. @default 2 x callTimeoutMs + 10000 */
  readonly routeTimeoutMs: number;
  /** Adopt the MQTT session of a dead node to answer the commands it held (docs/architecture.md §5.8). @default true */
  readonly adoptSessions: boolean;
  /**
   * OCPP_GW_REDIS_COMMAND_TIMEOUT_MS: a Redis command unanswered this long fails (a silently cut
   * connection never closes); also the age past which a forwarded command is not written
   * (docs/architecture.md §5.13). @default min(2000, node TTL / 2)
   */
  readonly commandTimeoutMs: number;
}

export interface TlsConfig {
  /** OCPP_GW_TLS_PORT, the wss listener, on OCPP_GW_HOST (0 picks a free port, for tests). @default 33043 */
  readonly port: number;
  /** OCPP_GW_TLS_CERT_FILE: PEM certificate chain, leaf first. */
  readonly certFile: string;
  /** OCPP_GW_TLS_KEY_FILE: PEM private key (unencrypted). */
  readonly keyFile: string;
  /** OCPP_GW_TLS_WATCH: reload the pair when either file changes (SIGHUP reloads always). @default true */
  readonly watch: boolean;
  /** OCPP_GW_PLAIN_WS=on|off: the plain ws listener beside wss (off needs the TLS pair). @default on */
  readonly plainWs: boolean;
}

export interface AdmissionConfig {
  /** OCPP_GW_MAX_CONNECTIONS: open WebSockets per node; past it upgrades get 503. @default 100000 */
  readonly maxConnections: number;
  /** OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: upgrade attempts refill rate per source address (429 past it). @default 20 */
  readonly upgradesPerAddressPerS: number;
  /** OCPP_GW_UPGRADE_BURST_PER_ADDRESS: upgrades one address may make at once. @default 200 */
  readonly upgradeBurstPerAddress: number;
  /** OCPP_GW_MAX_PENDING_UPGRADES: upgrades waiting on authentication at once; past it 503 pending_upgrades. @default 2000 */
  readonly maxPendingUpgrades: number;
  /** OCPP_GW_CALLS_PER_S: CALLs per connection per second, sustained. @default 20 */
  readonly callsPerS: number;
  /** OCPP_GW_CALL_BURST: CALLs a connection may send at once. @default 200 */
  readonly callBurst: number;
  /** OCPP_GW_REFUSED_CALLS_BEFORE_CLOSE: refused CALLs in a row before the socket is closed with 1008. @default 100 */
  readonly refusedCallsBeforeClose: number;
  /** OCPP_GW_MAX_PENDING_PUBLISHES_PER_CONNECTION: a socket's publishes waiting for the broker; past it its CALLs get GenericError. @default 250 */
  readonly maxPendingPublishesPerConnection: number;
}
