import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { Inbox } from '../src/bridge/inbox.js';
import { createLogger } from '../src/observability/logger.js';
import { HoldProxy } from './harness/hold-proxy.js';
import { Mosquitto } from './harness/mosquitto.js';
import { eventually, sleep } from './harness/time.js';

/**
 * A message the node is still handling when its broker connection drops (an error reply waiting
 * behind thousands of others, a command written and not answered yet) is sent again by the broker
 * after the reconnect, with the same packet id [MQTT-4.4.0-1]. Handled twice, such a command was
 * answered `unroutable` once and then routed and written after the charge point's later commands:
 * 890 of the chaos run's 903 reorders around a Redis restart (docs/architecture.md §5.14). The
 * inbox hands each message out once per broker session; a message given up (`release`) is handed
 * out again; a new session forgets the old ids.
 */

interface Handled {
  readonly payload: string;
  readonly dup: boolean;
  readonly ack: () => void;
  readonly release: () => boolean;
}

class Node {
  readonly handled: Handled[] = [];
  /** PUBLISH packets the broker sent, as read off the wire (before the inbox decides). */
  readonly received: { payload: string; dup: boolean }[] = [];
  readonly inbox = new Inbox(createLogger({ logLevel: 'silent', nodeId: 'redelivery' }));
  readonly client: MqttClient;
  /** Its own downstream topic: one charge point, this node alone subscribed. */
  readonly topic: string;

  constructor(url: string, clientId: string) {
    this.topic = `ocpp/cs/${clientId}`;
    const options: IClientOptions = {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      customHandleAcks: this.inbox.customHandleAcks,
    };
    this.client = mqtt.connect(url, options);
    this.inbox.attach(this.client);
    this.client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'publish') this.received.push({ payload: String(packet.payload), dup: packet.dup });
    });
    this.inbox.onMessage((_topic, payload, packet, ack, release) =>
      this.handled.push({ payload: payload.toString(), dup: packet.dup, ack, release }),
    );
  }

  async connected(): Promise<void> {
    await eventually(() => this.client.connected, 5000, 'connected');
  }

  /** The connection drops under the client; it reconnects and resumes its session. */
  async bounce(): Promise<void> {
    this.client.stream.destroy();
    await eventually(() => !this.client.connected, 5000, 'connection closed');
    const { incomingStore, outgoingStore } = this.client;
    this.client.reconnect({ incomingStore, outgoingStore });
    await this.connected();
  }

  copies(payload: string): { payload: string; dup: boolean }[] {
    return this.received.filter((r) => r.payload === payload);
  }
}

describe('Inbox: one message, handled once per broker session', () => {
  let broker: Mosquitto;
  let backend: MqttClient;
  const nodes: Node[] = [];
  before(async () => {
    broker = await Mosquitto.start();
    backend = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'backend',
      reconnectPeriod: 0,
    });
  });
  after(async () => {
    for (const node of nodes) node.client.end(true);
    backend.end(true);
    await broker.stop();
  });

  async function start(clientId: string, url = broker.url): Promise<Node> {
    const node = new Node(url, clientId);
    nodes.push(node);
    await node.connected();
    await node.client.subscribeAsync(node.topic, { qos: 1 });
    return node;
  }

  it("the broker's copy of a message still being handled is not handed out again; one PUBACK ends both", async () => {
    const node = await start('node-inflight');
    await backend.publishAsync(node.topic, 'c1', { qos: 1 });
    await eventually(() => node.handled.length === 1, 5000, 'c1 handled');
    // Still in the handler's hands (say, its error reply waits to be published) when the link drops.
    await node.bounce();
    await eventually(() => node.copies('c1').length === 2, 5000, 'the broker sent c1 again');
    assert.deepEqual(node.copies('c1')[1], { payload: 'c1', dup: true });
    await sleep(200);
    assert.deepEqual(
      node.handled.map((h) => h.payload),
      ['c1'],
      'the redelivered copy was handed out a second time',
    );
    assert.equal(node.inbox.unackedCount, 1);
    // The first copy's outcome is out: its PUBACK acknowledges the message for good.
    node.handled[0]?.ack();
    assert.equal(node.inbox.unackedCount, 0);
    await sleep(200);
    await node.bounce();
    await sleep(300);
    assert.equal(node.copies('c1').length, 2, 'the broker sent c1 a third time: no PUBACK reached it');
    assert.equal(node.handled.length, 1);
  });

  it('a PUBACK due while the link is down keeps the copy read before it goes out from being handled', async () => {
    const node = await start('node-held');
    await backend.publishAsync(node.topic, 'h1', { qos: 1 });
    await eventually(() => node.handled.length === 1, 5000, 'h1 handled');
    node.client.stream.destroy();
    await eventually(() => !node.client.connected, 5000, 'connection closed');
    node.handled[0]?.ack();
    const { incomingStore, outgoingStore } = node.client;
    node.client.reconnect({ incomingStore, outgoingStore });
    await node.connected();
    await sleep(300);
    assert.equal(node.handled.length, 1, 'h1 handed out again though its outcome was out');
    await node.bounce();
    await sleep(300);
    // The held PUBACK reached the broker: no copy after the second reconnect.
    const copies = node.copies('h1').length;
    assert.ok(copies <= 2, `h1 received ${copies} times`);
  });

  it('a released message is handed out again when the broker sends it again', async () => {
    const node = await start('node-released');
    await backend.publishAsync(node.topic, 'r1', { qos: 1 });
    await eventually(() => node.handled.length === 1, 5000, 'r1 handled');
    // Parked, then left to the broker when the link closed (docs/architecture.md §5.13).
    // No copy of it here yet: the release says none follows (the caller keeps no place for one).
    assert.equal(node.handled[0]?.release(), false);
    assert.equal(node.handled[0]?.release(), false, 'once only');
    node.handled[0]?.ack(); // after a release, an ack does nothing: no PUBACK
    await node.bounce();
    await eventually(() => node.handled.length === 2, 5000, 'r1 handed out again');
    assert.deepEqual(
      node.handled.map((h) => [h.payload, h.dup]),
      [
        ['r1', false],
        ['r1', true],
      ],
    );
    node.handled[1]?.ack();
    assert.equal(node.inbox.unackedCount, 0);
  });

  it('a message given up after its copy was joined to it is handed out again on the same connection', async () => {
    const node = await start('node-release-joined');
    await backend.publishAsync(node.topic, 'j1', { qos: 1 });
    await eventually(() => node.handled.length === 1, 5000, 'j1 handled');
    // Still being handled (its owner lookup waits for Redis, say) when the link drops.
    await node.bounce();
    await eventually(() => node.copies('j1').length === 2, 5000, 'the broker sent j1 again');
    await sleep(100);
    assert.equal(node.handled.length, 1, 'the copy was handed out beside the first');
    // The first handling gives the message up (parked, then left to the broker, docs §5.13): the
    // broker sends no other copy before a reconnect, so the one it sent goes out now, and the
    // release says so (cluster/copy-turns.ts keeps the message's place for it).
    assert.equal(node.handled[0]?.release(), true);
    await eventually(() => node.handled.length === 2, 2000, 'j1 handed out again without a reconnect');
    assert.deepEqual([node.handled[1]?.payload, node.handled[1]?.dup], ['j1', true]);
    node.handled[1]?.ack();
    assert.equal(node.inbox.unackedCount, 0);
    // That PUBACK acknowledged the broker's copy: nothing comes after the next reconnect.
    await sleep(200);
    await node.bounce();
    await sleep(300);
    assert.equal(node.copies('j1').length, 2, 'the broker sent j1 a third time: no PUBACK reached it');
    assert.equal(node.handled.length, 2);
  });

  it('a new broker session forgets the old ids: a new message reusing one is handled, the stale ack sends nothing', async () => {
    const node = await start('node-new-session');
    await backend.publishAsync(node.topic, 'old', { qos: 1 });
    await eventually(() => node.handled.length === 1, 5000, 'old handled');
    // The broker comes back without any session (no persistence): packet ids start again.
    await broker.restart();
    await eventually(() => node.client.connected === false, 5000, 'link down');
    backend = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'backend',
      reconnectPeriod: 0,
    });
    node.client.reconnect();
    await node.connected();
    await node.client.subscribeAsync(node.topic, { qos: 1 });
    await backend.publishAsync(node.topic, 'new', { qos: 1 });
    await eventually(() => node.handled.length === 2, 5000, 'the new message handed out');
    assert.equal(node.handled[1]?.payload, 'new');
    // The old message's outcome comes late: its id may now name "new", which must stay unacknowledged.
    node.handled[0]?.ack();
    await node.bounce();
    await eventually(() => node.copies('new').length === 2, 5000, 'the broker sent "new" again');
    assert.equal(node.handled.length, 2);
    node.handled[1]?.ack();
    assert.equal(node.inbox.unackedCount, 0);
  });

  it("a PUBACK lost with its connection: the broker's copy is acknowledged again, not handled again", async () => {
    const proxy = await HoldProxy.start(broker.port);
    try {
      const node = await start('node-lost-puback', proxy.url);
      await backend.publishAsync(node.topic, 'l1', { qos: 1 });
      await eventually(() => node.handled.length === 1, 5000, 'l1 handled');
      // The PUBACK leaves the node but not the proxy: the connection breaks with it (the broker
      // stopped right after the node sent it, say).
      proxy.hold();
      node.handled[0]?.ack();
      await sleep(100);
      proxy.cut();
      await eventually(() => !node.client.connected, 5000, 'connection closed');
      const { incomingStore, outgoingStore } = node.client;
      node.client.reconnect({ incomingStore, outgoingStore });
      await node.connected();
      await eventually(() => node.copies('l1').length === 2, 5000, 'the broker sent l1 again');
      await sleep(200);
      assert.equal(node.handled.length, 1, 'l1 handed out again though it was finished');
      // Its PUBACK went out again: no further copy after the next reconnect.
      await node.bounce();
      await sleep(300);
      assert.equal(node.copies('l1').length, 2);
    } finally {
      await proxy.stop();
    }
  });
});
