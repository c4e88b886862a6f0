import { connectAsync, type MqttClient } from 'mqtt';
import {
  DOWNSTREAM_TOPIC_PREFIX,
  UPSTREAM_TOPIC_PREFIX,
  acceptedBootReply,
  parseUpstreamCall,
} from './ocpp-frames.js';

/**
 * The backend side of a bench: accepts every BootNotification that reaches `ocpp/cp/+` by
 * publishing the CALLRESULT on `ocpp/cs/{cid}`, as a CSMS behind the gateway would.
 */
export class BootResponder {
  answered = 0;

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  static async start(mqttUrl: string): Promise<BootResponder> {
    const client = await connectAsync(mqttUrl, {
      protocolVersion: 5,
      clientId: `bench-backend-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
    });
    const responder = new BootResponder(client);
    // QoS 1: a lost BootNotification would show up as a CP that never boots, not as a gateway cost.
    await client.subscribeAsync(`${UPSTREAM_TOPIC_PREFIX}+`, { qos: 1 });
    return responder;
  }

  /** Stops listening, so later upstream traffic (throughput phase) is not fanned out to us too. */
  async stop(): Promise<void> {
    await this.client.unsubscribeAsync(`${UPSTREAM_TOPIC_PREFIX}+`);
    await this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const call = parseUpstreamCall(payload);
    if (call?.Action !== 'BootNotification') return;
    const cpId = topic.slice(UPSTREAM_TOPIC_PREFIX.length);
    this.answered++;
    this.client.publish(`${DOWNSTREAM_TOPIC_PREFIX}${cpId}`, acceptedBootReply(call.UniqueId, new Date()), {
      qos: 1,
    });
  }
}
