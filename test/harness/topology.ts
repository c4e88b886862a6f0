import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnGateway, type GatewayEnv, type GatewayProcess } from './gateway.js';
import { Mosquitto } from './mosquitto.js';
import { RedisServer } from './redis.js';

/**
 * A deployment's topology (gateway nodes with the environment a chart or compose file gives
 * them, Redis, mosquitto with its config) run as local processes: host names become the local
 * Redis and broker, listen ports become free ones.
 */

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const HELM_TEST_SCRIPT = `${REPO}helm/ocpp-gateway/files/helm-test.mjs`;

/** Config lines of a mosquitto.conf, without the listener the harness opens itself. */
export function brokerLines(conf: string): string[] {
  const data = mkdtempSync(join(tmpdir(), 'mosq-data-'));
  chmodSync(data, 0o777); // mosquitto started as root writes as the mosquitto user
  return conf
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !/^(listener|allow_anonymous)\b/.test(l))
    .map((l) => (l.startsWith('persistence_location') ? `persistence_location ${data}/` : l));
}

/** deploy/mosquitto/mosquitto.conf in a directory of its own, for an include_dir. */
export function shippedBrokerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mosq-conf-'));
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    brokerLines(readFileSync(`${REPO}deploy/mosquitto/mosquitto.conf`, 'utf8')).join('\n') + '\n',
  );
  return dir;
}

export class Topology {
  private constructor(
    readonly redis: RedisServer,
    readonly broker: Mosquitto,
    readonly nodes: GatewayProcess[],
  ) {}

  /** `nodeEnv` as rendered; OCPP_GW_MQTT_URL / OCPP_GW_REDIS_URL are pointed at the local ones. */
  static async start(nodeEnvs: GatewayEnv[], brokerConfig: string[]): Promise<Topology> {
    const redis = await RedisServer.start();
    const nodes: GatewayProcess[] = [];
    let broker: Mosquitto | undefined;
    try {
      broker = await Mosquitto.start(brokerConfig);
      for (const env of nodeEnvs) {
        nodes.push(
          await spawnGateway({
            ...env,
            OCPP_GW_MQTT_URL: broker.url,
            OCPP_GW_REDIS_URL: redis.url,
            OCPP_GW_HOST: '127.0.0.1',
            OCPP_GW_PORT: '0',
            OCPP_GW_HTTP_HOST: '127.0.0.1',
            OCPP_GW_HTTP_PORT: '0',
          }),
        );
      }
    } catch (error) {
      // A node that refuses to start must not leave the others (and the test run) hanging.
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      await broker?.stop();
      await redis.stop();
      throw error;
    }
    return new Topology(redis, broker, nodes);
  }

  /** Runs the chart's `helm test` script against node `index`: exit code and output. */
  helmTest(index: number, topicPrefix = 'ocpp/'): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [HELM_TEST_SCRIPT], {
      env: {
        PATH: process.env.PATH ?? '',
        APP_DIR: REPO.replace(/\/$/, ''),
        GATEWAY_URL: `ws://127.0.0.1:${this.nodes[index]!.ports.wsPort}/ocpp`,
        MQTT_URL: this.broker.url,
        TOPIC_PREFIX: topicPrefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    await this.broker.stop();
    await this.redis.stop();
  }
}
