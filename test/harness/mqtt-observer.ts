import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

export interface Observed {
  readonly topic: string;
  readonly json: unknown;
  readonly raw: string;
  readonly userProperties: Record<string, string | string[]> | undefined;
  readonly qos: number;
  readonly retain: boolean;
}

/** A real MQTT client playing the backend: records what it sees, publishes commands. */
export class MqttObserver {
  readonly seen: Observed[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const raw = payload.toString();
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      this.seen.push({
        topic,
        json,
        raw,
        userProperties: packet.properties?.userProperties,
        qos: packet.qos,
        retain: packet.retain,
      });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(
    url: string,
    filters: string[] = ['ocpp/#'],
    options: IClientOptions = {},
  ): Promise<MqttObserver> {
    const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...options });
    const observer = new MqttObserver(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 2 });
    return observer;
  }

  publish(topic: string, body: unknown, qos: 0 | 1 | 2 = 1): Promise<unknown> {
    return this.client.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos });
  }

  /** Waits for a message on `topic` (exact) matching `predicate`. */
  async waitFor(
    topic: string | ((t: string) => boolean), // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests narrow the payload shape inline
    predicate: (json: any) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Observed> {
    const matchTopic = typeof topic === 'string' ? (t: string) => t === topic : topic;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find((m) => matchTopic(m.topic) && predicate(m.json));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no message on ${String(topic)} within ${timeoutMs} ms; saw ${JSON.stringify(this.seen.map((m) => [m.topic, m.raw]))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  on(topic: string): Observed[] {
    return this.seen.filter((m) => m.topic === topic);
  }

  async end(): Promise<void> {
    await this.client.endAsync(true);
  }
}
