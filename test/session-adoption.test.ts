import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import type { NodeDirectory } from '../src/cluster/node-directory.js';
import type { RedisLink } from '../src/cluster/redis-link.js';
import { SessionAdopter, type AdopterOptions } from '../src/cluster/session-adopter.js';
import { ClusterMetrics } from '../src/observability/cluster-metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { Mosquitto } from './harness/mosquitto.js';
import { RedisServer } from './harness/redis.js';
import { eventually, sleep } from './harness/time.js';

const FILTER = '$share/g/ocpp/cs/+';
const DEAD_CLIENT = 'ocpp-gw-dead';

/**
 * A survivor's adopter options: its own MQTT client id on `url`, real Redis commands on `cmd`, and
 * a directory that says what the survivors see of the node (a member without liveness: dead).
 */
function adopterOptions(
  url: string,
  cmd: Redis,
  nodeId: string,
  prefix: string,
  maxMs: number,
  handle: AdopterOptions['handle'],
  metrics: ClusterMetrics,
): AdopterOptions {
  return {
    mqtt: {
      url,
      clientId: `ocpp-gw-${nodeId}`,
      username: undefined,
      password: undefined,
      protocolVersion: 5,
      maxBacklog: 1000,
      sessionExpiryS: 300,
    },
    filter: FILTER,
    prefix,
    nodeId,
    quietMs: 500,
    maxMs,
    redis: { cmd } as unknown as RedisLink,
    directory: {
      checkAlive: () => Promise.resolve(false),
      isMember: () => Promise.resolve(true),
      forget: () => Promise.resolve(),
    } as unknown as NodeDirectory,
    handle,
    metrics,
    log: createLogger({ logLevel: 'silent', nodeId }),
  };
}

function connect(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, ...options });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/**
 * What an adopter hands on from a dead node's MQTT session (docs/architecture.md §5.8), against a
 * real mosquitto and a real Redis (the adoption lock). The broker sends a message it had queued
 * for the offline session with DUP 0, yet the node, restarted and taking its session back before
 * the adopter acknowledged it, gets it again with DUP 1. Handled as fresh, the adopter's copy took
 * the written-mark unconditionally (§5.7) and was written a second time after the node's copy:
 * the chaos suite's "written twice after a kill -9 and restart". So every message of an adopted
 * session must reach the router as a redelivery.
 */
describe('session adoption: every message of an adopted session is a redelivery', () => {
  let broker: Mosquitto;
  let redis: RedisServer;
  let cmd: Redis;
  let backend: MqttClient;
  before(async () => {
    broker = await Mosquitto.start();
    redis = await RedisServer.start();
    cmd = new Redis(redis.url);
    backend = await connect(broker.url, { clientId: 'backend' });
  });
  after(async () => {
    backend.end(true);
    cmd.disconnect();
    await broker.stop();
    await redis.stop();
  });

  it('both the message the dead node never acknowledged (DUP 1) and one queued for it while it was down (DUP 0)', async () => {
    // The node-to-be-adopted: a persistent session with the shared downstream subscription. It
    // reads one command without acknowledging it (deferred PUBACK), then dies (no DISCONNECT).
    let readByDead = 0;
    const dead = await connect(broker.url, {
      clientId: DEAD_CLIENT,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      customHandleAcks: () => {
        readByDead += 1; // never acknowledged
      },
    });
    await dead.subscribeAsync(FILTER, { qos: 1 });
    await backend.publishAsync('ocpp/cs/cp1', '[2,"in-flight","Reset",{"type":"Soft"}]', { qos: 1 });
    await eventually(() => readByDead === 1, 5000, 'the dead node read the first command');
    dead.end(true);
    await eventually(() => !dead.connected, 5000, 'the dead node is gone');
    // Published while the node is down: mosquitto queues it in the offline session.
    await backend.publishAsync('ocpp/cs/cp1', '[2,"queued","Reset",{"type":"Soft"}]', { qos: 1 });

    const handled: Array<{ uniqueId: string; redelivered: boolean }> = [];
    const adopter = new SessionAdopter(
      adopterOptions(
        broker.url,
        cmd,
        'survivor',
        'adopt-test',
        10_000,
        (_topic, payload, redelivered, ack) => {
          const frame = JSON.parse(payload.toString()) as [number, string];
          handled.push({ uniqueId: frame[1], redelivered });
          ack();
        },
        new ClusterMetrics(new Registry()),
      ),
    );
    adopter.adopt('dead', DEAD_CLIENT);
    await eventually(() => handled.length === 2, 10_000, 'the adopter handled both commands');
    assert.deepEqual(
      [...handled].sort((a, b) => a.uniqueId.localeCompare(b.uniqueId)),
      [
        { uniqueId: 'in-flight', redelivered: true },
        { uniqueId: 'queued', redelivered: true },
      ],
    );
    adopter.stop();
    // The adoption ends the session: the lock is released once it is done.
    await eventually(async () => (await cmd.exists('adopt-test:adopt:dead')) === 0, 10_000, 'adoption over');
  });
});

/**
 * One adoption per death (docs/architecture.md §5.8). A node killed and restarted under its id
 * connects to the broker before its first heartbeat: it takes its session back from the adopter,
 * which gives way, while its liveness key is still missing. The adopter used to delete the lock
 * as it gave way; a second survivor, whose beat had just judged the node dead, then took the lock,
 * still found the node dead and a member, and adopted the session again: taken away from its
 * owner, now alive. The lock must outlive a give-way.
 */
describe('session adoption: a survivor does not adopt a session its owner took back', () => {
  const CLIENT = 'ocpp-gw-returning';
  let broker: Mosquitto;
  let redis: RedisServer;
  let cmd: Redis;
  let backend: MqttClient;
  const clients: MqttClient[] = [];
  const adopters: SessionAdopter[] = [];
  before(async () => {
    broker = await Mosquitto.start();
    redis = await RedisServer.start();
    cmd = new Redis(redis.url);
    backend = await connect(broker.url, { clientId: 'backend-2' });
  });
  after(async () => {
    for (const adopter of adopters) adopter.stop();
    for (const client of clients) client.end(true);
    backend.end(true);
    cmd.disconnect();
    await broker.stop();
    await redis.stop();
  });

  /** A survivor whose view (its last beat, before the node's first one) says the node is dead. */
  function survivor(nodeId: string, handled: string[], metrics: ClusterMetrics): SessionAdopter {
    // Never acknowledged: the adoption is still running when the node comes back.
    const handle: AdopterOptions['handle'] = (_topic, payload) => void handled.push(payload.toString());
    const adopter = new SessionAdopter(
      adopterOptions(broker.url, cmd, nodeId, 'give-way-test', 20_000, handle, metrics),
    );
    adopters.push(adopter);
    return adopter;
  }

  async function count(metrics: ClusterMetrics, result: string): Promise<number> {
    return (await metrics.adoptions.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  it('the first adopter gives way, and the second survivor leaves the returned node its session', async () => {
    let readByDead = 0;
    const dead = await connect(broker.url, {
      clientId: CLIENT,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      customHandleAcks: () => {
        readByDead += 1;
      },
    });
    clients.push(dead);
    await dead.subscribeAsync(FILTER, { qos: 1 });
    await backend.publishAsync('ocpp/cs/cp1', '[2,"c1","Reset",{"type":"Soft"}]', { qos: 1 });
    await eventually(() => readByDead === 1, 5000, 'the node read the command');
    dead.end(true); // kill -9: no DISCONNECT

    const handledA: string[] = [];
    const metricsA = new ClusterMetrics(new Registry());
    survivor('survivor-a', handledA, metricsA).adopt('returning', CLIENT);
    await eventually(() => handledA.length === 1, 10_000, 'survivor a adopted the session');

    // The node restarts under its id and resumes its session before its first beat.
    let closed = 0;
    const restarted = await connect(broker.url, {
      clientId: CLIENT,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    clients.push(restarted);
    restarted.on('close', () => (closed += 1));
    await eventually(async () => (await count(metricsA, 'returned')) === 1, 10_000, 'survivor a gave way');

    // Survivor b's beat judged the node dead before it beat again: b tries to adopt it.
    const handledB: string[] = [];
    const metricsB = new ClusterMetrics(new Registry());
    survivor('survivor-b', handledB, metricsB).adopt('returning', CLIENT);
    await sleep(2000);
    assert.equal(closed, 0, 'the returned node kept its session');
    assert.equal(restarted.connected, true);
    assert.deepEqual(handledB, []);
    for (const result of ['adopted', 'returned', 'failed'])
      assert.equal(await count(metricsB, result), 0, result);
    // Survivor a's lock runs out by itself, by when the node beats again and no verdict names it.
    assert.equal(await cmd.get('give-way-test:adopt:returning'), 'survivor-a');
    assert.ok((await cmd.pttl('give-way-test:adopt:returning')) > 0);
  });
});

/**
 * A node that beats again while its session is being handed over (docs/architecture.md §5.8): the
 * survivor's check before connecting found its liveness key missing, the node's first beat after a
 * Redis failover wrote it just after. Adopted anyway, the survivor handled the node's messages while
 * the node, alive again, handled them too: a chaos run's 534 reordered and 17 written twice.
 */
describe('session adoption: the node beats again during the handover', () => {
  const CLIENT = 'ocpp-gw-racing';
  let broker: Mosquitto;
  let redis: RedisServer;
  let cmd: Redis;
  let backend: MqttClient;
  const clients: MqttClient[] = [];
  before(async () => {
    broker = await Mosquitto.start();
    redis = await RedisServer.start();
    cmd = new Redis(redis.url);
    backend = await connect(broker.url, { clientId: 'backend-3' });
  });
  after(async () => {
    for (const client of clients) client.end(true);
    backend.end(true);
    cmd.disconnect();
    await broker.stop();
    await redis.stop();
  });

  it('the survivor hands the session back unhandled, and the node gets every message again', async () => {
    const node = await connect(broker.url, {
      clientId: CLIENT,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      customHandleAcks: () => undefined, // reads, never acknowledges: in the node's hands
    });
    clients.push(node);
    await node.subscribeAsync(FILTER, { qos: 1 });
    await backend.publishAsync('ocpp/cs/cp1', '[2,"r1","Reset",{"type":"Soft"}]', { qos: 1 });
    await sleep(200);

    const handled: string[] = [];
    const metrics = new ClusterMetrics(new Registry());
    const options = adopterOptions(
      broker.url,
      cmd,
      'survivor-c',
      'race-test',
      20_000,
      (_t, payload) => {
        handled.push(payload.toString());
      },
      metrics,
    );
    // Dead at the first check, alive at the second: the node beat in between.
    let checks = 0;
    const directory = {
      checkAlive: () => Promise.resolve((checks += 1) > 1),
      isMember: () => Promise.resolve(true),
      forget: () => Promise.resolve(),
    } as unknown as NodeDirectory;
    const adopter = new SessionAdopter({ ...options, directory });
    adopter.adopt('racing', CLIENT);
    const returned = async () =>
      (await metrics.adoptions.get()).values.find((v) => v.labels.result === 'returned')?.value ?? 0;
    await eventually(async () => (await returned()) === 1, 10_000, 'the survivor handed the session back');
    assert.equal(checks, 2);
    assert.deepEqual(handled, [], 'the survivor handled a message of a live node');
    adopter.stop();

    // The node reconnects (its link was closed by the handover) and gets its message again, with
    // the shared subscription still in its session: the survivor did not unsubscribe it.
    const again: Array<{ payload: string; dup: boolean }> = [];
    // Listening before the CONNACK: the broker resends at once.
    const back = mqtt.connect(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: CLIENT,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    clients.push(back);
    back.on('message', (_topic, payload, packet) =>
      again.push({ payload: payload.toString(), dup: packet.dup }),
    );
    await eventually(() => again.length === 1, 5000, 'the node got its message again');
    assert.deepEqual(again, [{ payload: '[2,"r1","Reset",{"type":"Soft"}]', dup: true }]);
    await backend.publishAsync('ocpp/cs/cp1', '[2,"r2","Reset",{"type":"Soft"}]', { qos: 1 });
    await eventually(() => again.length === 2, 5000, 'a new command reached the node: still subscribed');
  });
});
