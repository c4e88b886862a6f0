import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { Inbox } from '../../src/bridge/inbox.js';
import { createLogger } from '../../src/observability/logger.js';

const publish = (messageId: number, payload: string, dup: boolean): IPublishPacket => ({
  cmd: 'publish',
  qos: 1,
  dup,
  retain: false,
  messageId,
  topic: 'ocpp/cs/cp1',
  payload: Buffer.from(payload),
});

/**
 * The inbox's own decision, without a broker (bridge/inbox.ts, in-flight-ids.ts): a PUBLISH with
 * the id, topic and payload of a message still in hand is the broker's copy, whatever its DUP
 * flag. mosquitto stopped by SIGTERM sent a command to the routing node after it had saved its
 * persistence file with the command still queued, and sent it again with DUP 0 once restarted;
 * handled a second time, the command was written twice (bench/RESULTS.md "Run M").
 */
describe('Inbox: the broker copy of a message in hand, DUP 0 or 1', () => {
  function inbox(): { box: Inbox; handled: { payload: string; ack: () => void }[] } {
    const box = new Inbox(createLogger({ logLevel: 'silent', nodeId: 'inbox-copy' }));
    const handled: { payload: string; ack: () => void }[] = [];
    box.onMessage((_topic, payload, _packet, ack) => handled.push({ payload: payload.toString(), ack }));
    return { box, handled };
  }
  const feed = (box: Inbox, packet: IPublishPacket): void =>
    box.customHandleAcks(packet.topic, packet.payload as Buffer, packet, () => undefined);

  for (const dup of [false, true]) {
    it(`an identical PUBLISH with DUP ${dup ? 1 : 0} under the id in hand is not handed out again`, () => {
      const { box, handled } = inbox();
      feed(box, publish(5, '{"UniqueId":"c1"}', false));
      feed(box, publish(5, '{"UniqueId":"c1"}', dup));
      assert.deepEqual(
        handled.map((h) => h.payload),
        ['{"UniqueId":"c1"}'],
      );
      assert.equal(box.unackedCount, 1, 'one message in hand, answered by its first copy');
      handled[0]?.ack();
      assert.equal(box.unackedCount, 0);
    });
  }

  it('another message under the id in hand is handed out (a broker reusing the id)', () => {
    const { box, handled } = inbox();
    feed(box, publish(5, '{"UniqueId":"c1"}', false));
    feed(box, publish(5, '{"UniqueId":"c2"}', false));
    assert.deepEqual(
      handled.map((h) => h.payload),
      ['{"UniqueId":"c1"}', '{"UniqueId":"c2"}'],
    );
    assert.equal(box.unackedCount, 2);
  });
});

/** A connected mqtt.js client as far as the inbox uses it: events, and the PUBACKs it sends. */
class FakeClient extends EventEmitter {
  connected = true;
  readonly pubacks: number[] = [];
  _sendPacket(packet: { cmd: 'puback'; messageId: number }, done: () => void): void {
    this.pubacks.push(packet.messageId);
    done();
  }
}

describe('Inbox: the broker copy of a message already acknowledged, DUP 0 or 1', () => {
  for (const dup of [false, true]) {
    it(`an identical PUBLISH with DUP ${dup ? 1 : 0} on the next connection is acknowledged again, not handed out`, () => {
      const box = new Inbox(createLogger({ logLevel: 'silent', nodeId: 'inbox-acked-copy' }));
      const client = new FakeClient();
      box.attach(client as unknown as MqttClient);
      const handled: string[] = [];
      box.onMessage((_topic, payload, _packet, ack) => {
        handled.push(payload.toString());
        ack();
      });
      const first = publish(9, '{"UniqueId":"c1"}', false);
      box.customHandleAcks(first.topic, first.payload as Buffer, first, () => undefined);
      assert.deepEqual(client.pubacks, [9]);
      // The broker stopped before it read that PUBACK, and is back with the session.
      client.emit('packetreceive', { cmd: 'connack', reasonCode: 0, sessionPresent: true });
      const copy = publish(9, '{"UniqueId":"c1"}', dup);
      box.customHandleAcks(copy.topic, copy.payload as Buffer, copy, () => undefined);
      assert.deepEqual(handled, ['{"UniqueId":"c1"}'], 'handed out once');
      assert.deepEqual(client.pubacks, [9, 9], 'the lost PUBACK sent again');
    });
  }
});
