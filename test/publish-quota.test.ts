import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { leaveHalfDoneQos2 } from './harness/half-done-qos2.js';
import { probeLink } from './harness/link-probe.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

describe('a publish the broker refuses for its quota (0x97) is sent again', () => {
  it('loses no outcome on a resumed session whose broker quota is used up by a dead connection', async () => {
    const broker = await Mosquitto.start();
    started.push(broker);
    const backend = await MqttObserver.connect(broker.url, ['ocpp/cp/+/Reply']);
    started.push({ stop: () => backend.client.endAsync(true) });
    const clientId = 'ocpp-gw-quota';
    await leaveHalfDoneQos2(broker.port, clientId, 25);

    // Left in the session (orphan-release.ts would release them and the quota with them).
    const probe = await probeLink(broker.url, { clientId, sessionExpiryS: 300, releaseOrphans: false });
    started.push({ stop: () => probe.link.end(500) });
    assert.equal(probe.link.connack.sessionPresent, true, 'the dead connection’s session is resumed');
    // The broker's answers as they arrive: the quota refusals this test is about.
    const refusals: number[] = [];
    const client = (probe.link as unknown as { client: MqttClient }).client;
    client.on('packetreceive', (p) => {
      if ((p.cmd === 'puback' || p.cmd === 'pubrec') && (p.reasonCode ?? 0) >= 0x80)
        refusals.push(p.reasonCode ?? 0);
    });

    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => probe.publish('ocpp/cp/cp1/Reply', `outcome ${i}`, 2)),
    );
    assert.ok(
      refusals.includes(0x97),
      `mosquitto refused with Quota exceeded (saw ${JSON.stringify(refusals)})`,
    );
    const failed = outcomes.flatMap((e, i) => (e === undefined ? [] : [`${i}: ${e.message}`]));
    assert.deepEqual(failed, [], 'every publish acknowledged in the end');
    await backend.waitFor(
      (t) => t === 'ocpp/cp/cp1/Reply',
      () => backend.on('ocpp/cp/cp1/Reply').length >= 200,
      5000,
    );
    // Those sent behind a refused one in the same window may arrive before it.
    const delivered = backend
      .on('ocpp/cp/cp1/Reply')
      .map((m) => m.raw)
      .sort();
    const expected = Array.from({ length: 200 }, (_, i) => `outcome ${i}`).sort();
    assert.deepEqual(delivered, expected, 'each outcome delivered exactly once');
  });
});
