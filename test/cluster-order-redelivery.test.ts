import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { metricValue } from './harness/cluster.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { HoldProxy } from './harness/hold-proxy.js';
import { Mosquitto } from './harness/mosquitto.js';
import { recordOutcome } from './harness/order-run.js';
import { RedisServer } from './harness/redis.js';
import { eventually, sleep } from './harness/time.js';

/**
 * Per-charge-point order across a broker reconnect of the routing node (docs/architecture.md
 * §5.14), with real mosquitto, Redis and two gateway processes: node 0 alone holds the downstream
 * subscription (through a proxy that can hold and cut its link), node 1 holds the station.
 *
 * The chaos run's order-keeping mode reordered 903 commands around a Redis restart, 890 of them
 * this way: the routing node answered command 1 with an error reply that waited behind thousands
 * of others; command 2 was routed and written; the broker restarted, sent command 1 again (no
 * PUBACK yet: the answer was not out) and the node handled it a second time, writing it after
 * command 2 (two outcomes, one saying "not written"). Here the reply waits in the proxy instead.
 */
describe('order across a reconnect of the routing node', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let broker: Mosquitto;
  let proxy: HoldProxy;
  let backend: MqttClient;
  const nodes: GatewayProcess[] = [];
  let station: WebSocket | undefined;
  const outcomes = new Map<string, string[]>();

  before(async () => {
    redis = await RedisServer.start();
    broker = await Mosquitto.start();
    proxy = await HoldProxy.start(broker.port);
    const env = (i: number, mqttUrl: string, subscribe: boolean): Record<string, string> => ({
      OCPP_GW_NODE_ID: `node-${i}`,
      OCPP_GW_MQTT_URL: mqttUrl,
      OCPP_GW_REDIS_URL: redis.url,
      OCPP_GW_DOWNSTREAM_SUBSCRIBE: String(subscribe),
      OCPP_GW_ADOPT_SESSIONS: 'false',
    });
    nodes.push(await spawnGateway(env(0, proxy.url, true)));
    nodes.push(await spawnGateway(env(1, broker.url, false)));
    backend = await connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: `redelivery-backend-${process.pid}`,
    });
    await backend.subscribeAsync('ocpp/cp/+/Reply', { qos: 1 });
    backend.on('message', (_topic, payload) => recordOutcome(outcomes, payload));
  });

  after(async () => {
    station?.terminate();
    await backend.endAsync();
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await proxy.stop();
    await broker.stop();
    await redis.stop();
  });

  const publish = (cid: string, id: string, seq: number): Promise<unknown> =>
    backend.publishAsync(
      `ocpp/cs/${cid}`,
      JSON.stringify({
        MessageTypeId: 2,
        UniqueId: id,
        Action: 'DataTransfer',
        Payload: { vendorId: 'order', data: String(seq) },
      }),
      { qos: 1 },
    );

  const routed = async (result: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${nodes[0]!.ports.httpPort}/metrics`)).text();
    return metricValue(text, `ocpp_gateway_route_total{result="${result}"}`);
  };

  it("a command answered but not yet acknowledged holds the station's next one, and is not handled again", async () => {
    const cid = 'redeliver-1';
    // Command 1: the station is not connected yet, node 0 answers `offline`; the answer (and so
    // the PUBACK that follows it) waits in the proxy.
    proxy.hold();
    await publish(cid, 'c1', 1);
    await eventually(async () => (await routed('offline')) >= 1, 10_000, 'node 0 answered c1 offline');
    // The station connects to node 1; command 2 is routed to it and written.
    const seen: number[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${nodes[1]!.ports.wsPort}/ocpp/${cid}`, ['ocpp1.6']);
    station = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as [number, string, string, { data?: string }];
      if (frame[0] !== 2) return;
      seen.push(Number(frame[3].data));
      ws.send(JSON.stringify([3, frame[1], { status: 'Accepted' }]));
    });
    await sleep(300);
    await publish(cid, 'c2', 2);
    // c2 waits in the station's line until c1's answer is out and acknowledged (§5.14): had
    // another process taken node 0's session meanwhile, the broker's copy of c1 would be written
    // there, after c2.
    await sleep(1500);
    assert.deepEqual(seen, [], 'c2 was written while the answer to c1 was not out');
    // Node 0's link breaks with its answer to c1 unsent: mqtt.js sends it again once node 0 is back,
    // and the broker's copies of c1 and c2 join the first ones still in hand (inbox.ts).
    proxy.cut();
    await eventually(() => (outcomes.get('c1')?.length ?? 0) >= 1, 15_000, 'c1 has an outcome');
    await eventually(() => outcomes.get('c2')?.[0] === 'answered', 15_000, 'c2 answered by the station');
    await sleep(1500);
    assert.deepEqual(seen, [2], 'c1 was written to the station, or c2 twice');
    assert.deepEqual(outcomes.get('c1'), ['offline']);
    assert.deepEqual(outcomes.get('c2'), ['answered']);
  });
});
