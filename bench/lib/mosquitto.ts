import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ManagedProcess, childEnv } from './processes.js';
import { sleep } from './time.js';

const MOSQUITTO = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto';

/**
 * Broker settings shared by every bench run, so gateway and peer meet the same broker.
 *
 * - `max_inflight_messages 0`: mosquitto 2.0 advertises this value as its MQTT 5 Receive Maximum
 *   (default 20). mqtt.js 5 does not hold back outgoing QoS 1/2 publishes for the server's Receive
 *   Maximum, and mosquitto answers the 21st unacknowledged QoS 2 PUBLISH with PUBREC 0x97 (Quota
 *   exceeded): measured here, 20,000 QoS 2 publishes in a burst gave 9,990 rejections. 0 means no
 *   limit in either direction, so the broker never throttles or rejects the publisher under test.
 * - `max_queued_messages 100000`: per-subscriber queue above the in-flight window; the default
 *   (1000) would drop messages for a subscriber that falls behind in a burst.
 * - `set_tcp_nodelay true` (unless `tcpNoDelay: false`): no Nagle delay on small publishes, which
 *   would add latency unrelated to the gateway (the idle round-trip bench measures both).
 * - no persistence, no $SYS, warnings and errors only: nothing but message routing on its thread.
 */
function config(port: number, tcpNoDelay: boolean): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_inflight_messages 0',
    'max_queued_messages 100000',
    `set_tcp_nodelay ${String(tcpNoDelay)}`,
    'sys_interval 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

export interface Broker {
  readonly url: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a private mosquitto on a free loopback port and waits until it accepts TCP connections. */
export async function startMosquitto(options: { tcpNoDelay?: boolean } = {}): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
  const file = join(dir, 'mosquitto.conf');
  const port = await freePort();
  writeFileSync(file, config(port, options.tcpNoDelay ?? true));
  const proc = new ManagedProcess('mosquitto', MOSQUITTO, ['-c', file], childEnv({}));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (!proc.running || Date.now() > deadline) {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start on port ${port}; stderr:\n${proc.stderr()}`);
    }
    await sleep(50);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    process: proc,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
