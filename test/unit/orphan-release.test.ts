import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pubrelsExcept } from '../../src/bridge/orphan-release.js';
import { PACKET_ID_WINDOW, WindowedPacketIds } from '../../src/bridge/packet-ids.js';
import { mqttPacket, type ParsedPacket } from '../harness/mqtt-packet.js';

describe('the session-resume PUBRELs (src/bridge/orphan-release.ts)', () => {
  it('are what mqtt-packet writes for a PUBREL in 3.1.1, and parse as PUBREL reason 0 in MQTT 5', () => {
    const { bytes } = pubrelsExcept((id) => id > 3);
    const library = Buffer.concat(
      [1, 2, 3].map((messageId) => mqttPacket.generate({ cmd: 'pubrel', messageId }, { protocolVersion: 4 })),
    );
    assert.deepEqual(bytes, library);
    // MQTT 5 §3.6.2.1: Reason Code 0x00 and no properties may be left out (Remaining Length 2).
    const parsed: ParsedPacket[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on('packet', (p) => parsed.push(p));
    parser.parse(bytes);
    assert.deepEqual(
      parsed.map((p) => [p.cmd, p.messageId, p.reasonCode ?? 0]),
      [1, 2, 3].map((id) => ['pubrel', id, 0]),
    );
  });

  it('cover every packet id but those in flight, in order, and name the last', () => {
    const inFlight = new Set([1, 7, 1024]);
    const { bytes, lastId } = pubrelsExcept((id) => inFlight.has(id), 1024);
    assert.equal(bytes.length, (1024 - 3) * 4);
    const ids = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt16BE(i * 4 + 2));
    assert.equal(ids[0], 2);
    assert.equal(ids.includes(7), false);
    assert.equal(lastId, 1023);
    assert.equal(ids.at(-1), 1023);
    assert.ok(
      ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0)),
      'ascending',
    );
  });

  it('cover the packet id window by default', () => {
    assert.equal(pubrelsExcept(() => false).lastId, PACKET_ID_WINDOW);
  });

  it('are none when every id is in flight', () => {
    assert.deepEqual(
      pubrelsExcept(() => true),
      { bytes: Buffer.alloc(0), lastId: 0 },
    );
  });
});

describe("the packet ids of the node's publishes (src/bridge/packet-ids.ts)", () => {
  function idsOver(outgoing: Record<number, unknown>): WindowedPacketIds {
    const ids = new WindowedPacketIds();
    ids.attach({ outgoing } as unknown as Parameters<WindowedPacketIds['attach']>[0]);
    return ids;
  }

  it('are handed out in turn within the window, skipping those in flight, and wrap', () => {
    const outgoing: Record<number, unknown> = { 2: {}, 3: {} };
    const ids = idsOver(outgoing);
    assert.deepEqual([ids.allocate(), ids.allocate()], [1, 4]);
    assert.equal(ids.getLastAllocated(), 4);
    for (let i = 5; i <= PACKET_ID_WINDOW; i++) assert.equal(ids.allocate(), i);
    outgoing[1] = {};
    delete outgoing[2];
    assert.equal(ids.allocate(), 2, 'after the last id of the window: the first free one from 1');
  });

  it('run out (null, mqtt.js fails that publish) only when every id of the window is in flight', () => {
    const outgoing: Record<number, unknown> = {};
    for (let i = 1; i <= PACKET_ID_WINDOW; i++) outgoing[i] = {};
    assert.equal(idsOver(outgoing).allocate(), null);
  });
});
