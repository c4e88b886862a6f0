import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { sleep } from './harness/time.js';
import { eventually } from './harness/time.js';
import { RedisCluster, RedisServer } from './harness/redis.js';

/**
 * Every TCP socket the gateway opens to the broker and to Redis has Nagle's algorithm off
 * (TCP_NODELAY), also after a reconnect. Observed on the sockets themselves: every Socket this
 * process connects is recorded with the last value given to setNoDelay.
 */
const sockets = new Set<Socket>();
const noDelay = new WeakMap<Socket, boolean>();
type Method = (this: Socket, ...args: unknown[]) => unknown;
const proto = Socket.prototype as unknown as Record<'connect' | 'setNoDelay', Method>;
const originalConnect = proto.connect;
const originalSetNoDelay = proto.setNoDelay;

before(() => {
  proto.connect = function (this: Socket, ...args: unknown[]) {
    sockets.add(this);
    return originalConnect.apply(this, args);
  };
  proto.setNoDelay = function (this: Socket, ...args: unknown[]) {
    noDelay.set(this, args[0] === undefined || args[0] === true);
    return originalSetNoDelay.apply(this, args);
  };
});
after(() => {
  proto.connect = originalConnect;
  proto.setNoDelay = originalSetNoDelay;
});

/** Open sockets of this process to `ports`, each with its TCP_NODELAY setting. */
function socketsTo(ports: readonly number[]): Array<{ port: number; noDelay: boolean }> {
  return [...sockets]
    .filter((s) => !s.destroyed && s.remotePort !== undefined && ports.includes(s.remotePort))
    .map((s) => ({ port: s.remotePort ?? 0, noDelay: noDelay.get(s) === true }));
}

describe('TCP_NODELAY on every socket the gateway owns', () => {
  it('MQTT (also after a reconnect) and standalone Redis (commands, heartbeat and route bus)', async () => {
    const mosquitto = await Mosquitto.start();
    const redis = await RedisServer.start();
    const gw = await startGateway({ OCPP_GW_MQTT_URL: mosquitto.url, OCPP_GW_REDIS_URL: redis.url });
    try {
      const mqtt = socketsTo([mosquitto.port]);
      assert.equal(mqtt.length, 1, 'one MQTT connection');
      assert.deepEqual(mqtt, [{ port: mosquitto.port, noDelay: true }]);
      const redisSockets = socketsTo([redis.port]);
      assert.equal(redisSockets.length, 3, 'a command, a heartbeat and a subscriber connection');
      assert.ok(
        redisSockets.every((s) => s.noDelay),
        JSON.stringify(redisSockets),
      );

      await mosquitto.restart(200);
      await eventually(
        () => gw.gateway.state === 'ready' && socketsTo([mosquitto.port]).length === 1,
        10_000,
        'reconnected',
      );
      await sleep(100);
      assert.deepEqual(socketsTo([mosquitto.port]), [{ port: mosquitto.port, noDelay: true }]);
    } finally {
      await gw.stop();
      await redis.stop();
      await mosquitto.stop();
    }
  });

  it('Redis Cluster: every node connection, sharded subscribers included', async () => {
    const mosquitto = await Mosquitto.start();
    const cluster = await RedisCluster.start(3);
    const gw = await startGateway({
      OCPP_GW_MQTT_URL: mosquitto.url,
      OCPP_GW_REDIS_CLUSTER_NODES: cluster.nodesEnv,
    });
    try {
      const ports = cluster.nodes.map((n) => n.port);
      const redisSockets = socketsTo(ports);
      assert.ok(redisSockets.length >= 4, `Redis Cluster connections: ${JSON.stringify(redisSockets)}`);
      assert.ok(
        redisSockets.every((s) => s.noDelay),
        JSON.stringify(redisSockets),
      );
    } finally {
      await gw.stop();
      await cluster.stop();
      await mosquitto.stop();
    }
  });
});
