import { connectAsync, type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import { DOWNSTREAM_TOPIC_PREFIX, UPSTREAM_TOPIC_PREFIX, parseUpstreamCall } from './ocpp-frames.js';

/**
 * The backend of the idle round-trip bench: answers every Heartbeat on `ocpp/cp/+` with its
 * CALLRESULT on `ocpp/cs/{cid}` at once, at the bench's QoS. Its socket has Nagle's algorithm off
 * (a real CSMS should too), so the figure is the gateway's and the broker's, not the backend's.
 */
export class HeartbeatBackend {
  answered = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly qos: 0 | 1 | 2,
  ) {
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  static async start(mqttUrl: string, qos: 0 | 1 | 2): Promise<HeartbeatBackend> {
    const client = await connectAsync(mqttUrl, {
      protocolVersion: 5,
      clientId: `bench-heartbeat-backend-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
    });
    (client.stream as Partial<Socket>).setNoDelay?.(true);
    const backend = new HeartbeatBackend(client, qos);
    await client.subscribeAsync(`${UPSTREAM_TOPIC_PREFIX}+`, { qos });
    return backend;
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const call = parseUpstreamCall(payload);
    if (call?.Action !== 'Heartbeat') return;
    this.answered++;
    const reply = JSON.stringify({
      MessageTypeId: 3,
      UniqueId: call.UniqueId,
      Payload: { currentTime: new Date().toISOString() },
    });
    this.client.publish(`${DOWNSTREAM_TOPIC_PREFIX}${topic.slice(UPSTREAM_TOPIC_PREFIX.length)}`, reply, {
      qos: this.qos,
    });
  }
}
