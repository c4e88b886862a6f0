import { Mosquitto } from '../../test/harness/mosquitto.js';

/**
 * mosquitto.conf lines every bench run adds to the test harness's broker, so gateway and peer
 * meet the same broker.
 *
 * - `max_inflight_messages 0`: mosquitto 2.0 advertises this value as its MQTT 5 Receive Maximum
 *   (default 20). mqtt.js 5 does not hold back outgoing QoS 1/2 publishes for the server's Receive
 *   Maximum, and mosquitto answers the 21st unacknowledged QoS 2 PUBLISH with PUBREC 0x97 (Quota
 *   exceeded): measured here, 20,000 QoS 2 publishes in a burst gave 9,990 rejections. 0 means no
 *   limit in either direction, so the broker never throttles or rejects the publisher under test.
 * - `max_queued_messages 100000` (the harness's own setting): per-subscriber queue above the
 *   in-flight window; the default (1000) would drop messages for a subscriber that falls behind.
 * - `set_tcp_nodelay true`: no Nagle delay on small publishes, which would add latency unrelated
 *   to the gateway.
 * - no persistence (the harness's setting), no $SYS, warnings and errors only: nothing but message
 *   routing on its thread.
 */
const BENCH_BROKER_CONFIG = ['max_inflight_messages 0', 'sys_interval 0', 'log_type warning'];

/**
 * A private mosquitto on a free loopback port with the bench settings, accepting connections.
 * `tcpNoDelay: false` keeps mosquitto's own default (Nagle on), which the idle round-trip bench
 * measures beside the recommended setting.
 */
export function startBenchBroker(options: { tcpNoDelay?: boolean } = {}): Promise<Mosquitto> {
  return Mosquitto.start([...BENCH_BROKER_CONFIG, `set_tcp_nodelay ${String(options.tcpNoDelay ?? true)}`]);
}
