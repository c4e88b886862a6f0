import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { PACKET_ID_WINDOW } from '../src/bridge/packet-ids.js';
import { leaveHalfDoneQos2 } from './harness/half-done-qos2.js';
import { probeLink } from './harness/link-probe.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

describe('a resumed session releases the QoS 2 publishes an earlier connection left half done (src/bridge/orphan-release.ts)', () => {
  it('delivers them, and the broker quota they held is free again: no publish is refused', async () => {
    const broker = await Mosquitto.start();
    started.push(broker);
    const backend = await MqttObserver.connect(broker.url, ['ocpp/cp/+/Reply']);
    started.push({ stop: () => backend.client.endAsync(true) });
    const clientId = 'ocpp-gw-orphans';
    // A gateway process killed between PUBREC and PUBREL, 25 times over (mosquitto's quota is 20).
    // Ids within the window this gateway's processes use (src/bridge/packet-ids.ts).
    const held = await leaveHalfDoneQos2(broker.port, clientId, 25, 990);
    assert.ok(held.length >= 20, `the broker holds at least its quota of them (${held.length})`);

    const probe = await probeLink(broker.url, { clientId, sessionExpiryS: 300 });
    started.push({ stop: () => probe.link.end(500) });
    assert.equal(probe.link.connack.sessionPresent, true, 'the dead connection’s session is resumed');
    const [resumed] = probe.lines('mqtt session resumed: PUBREL sent for every packet id not in flight');
    assert.equal(
      resumed?.packetIds,
      PACKET_ID_WINDOW,
      'a PUBREL for every id of the window (nothing in flight)',
    );
    assert.equal(resumed?.answered, true);
    const refusals: number[] = [];
    const client = (probe.link as unknown as { client: MqttClient }).client;
    client.on('packetreceive', (p) => {
      if ((p.cmd === 'puback' || p.cmd === 'pubrec') && (p.reasonCode ?? 0) >= 0x80)
        refusals.push(p.reasonCode ?? 0);
    });

    await backend.waitFor(
      (t) => t === 'ocpp/cp/dead/Reply',
      () => backend.on('ocpp/cp/dead/Reply').length >= held.length,
      5000,
    );
    const stale = backend
      .on('ocpp/cp/dead/Reply')
      .map((m) => m.raw)
      .sort();
    assert.deepEqual(stale, held.sort(), 'each one the broker held, released once');

    // Published at once: their packet ids come round to ids just released, whose PUBCOMPs a
    // publish must not take for its own (OrphanRelease.releasing).
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => probe.publish('ocpp/cp/cp1/Reply', `outcome ${i}`, 2)),
    );
    const failed = outcomes.flatMap((e, i) => (e === undefined ? [] : [`${i}: ${e.message}`]));
    assert.deepEqual(failed, [], 'every publish acknowledged');
    assert.deepEqual(refusals, [], 'no Quota exceeded (0x97): the released publishes no longer count');
    await backend.waitFor(
      (t) => t === 'ocpp/cp/cp1/Reply',
      () => backend.on('ocpp/cp/cp1/Reply').length >= 200,
      5000,
    );
    const delivered = backend
      .on('ocpp/cp/cp1/Reply')
      .map((m) => m.raw)
      .sort();
    assert.deepEqual(delivered, Array.from({ length: 200 }, (_, i) => `outcome ${i}`).sort());
  });

  it('sends nothing when the session is new', async () => {
    const broker = await Mosquitto.start();
    started.push(broker);
    const probe = await probeLink(broker.url, { clientId: 'ocpp-gw-fresh', sessionExpiryS: 300 });
    started.push({ stop: () => probe.link.end(500) });
    assert.equal(probe.link.connack.sessionPresent, false);
    assert.equal(
      probe.lines('mqtt session resumed: PUBREL sent for every packet id not in flight').length,
      0,
    );
  });
});
