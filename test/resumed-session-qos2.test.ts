import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { PACKET_ID_WINDOW } from '../src/bridge/packet-ids.js';
import { leaveHalfDoneQos2 } from './harness/half-done-qos2.js';
import { probeLink, type LinkProbe } from './harness/link-probe.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

const RESUMED = 'mqtt session resumed: PUBREL sent for every packet id not in flight';

/**
 * A link resuming the session of a gateway process killed between PUBREC and PUBREL 25 times
 * over (mosquitto's quota is 20), with packet ids in the window this gateway's processes use
 * (src/bridge/packet-ids.ts); the broker's refusals of the link's publishes as they come.
 */
async function resumeHalfDoneSession(clientId: string, releaseOrphans: boolean) {
  const broker = await Mosquitto.start();
  started.push(broker);
  const backend = await MqttObserver.connect(broker.url, ['ocpp/cp/+/Reply']);
  started.push({ stop: () => backend.client.endAsync(true) });
  const held = await leaveHalfDoneQos2(broker.port, clientId, 25, 990);
  assert.ok(held.length >= 20, `the broker holds at least its quota of them (${held.length})`);
  const probe = await probeLink(broker.url, { clientId, sessionExpiryS: 300, releaseOrphans });
  started.push({ stop: () => probe.link.end(500) });
  assert.equal(probe.link.connack.sessionPresent, true, 'the dead connection’s session is resumed');
  const refusals: number[] = [];
  const client = (probe.link as unknown as { client: MqttClient }).client;
  client.on('packetreceive', (p) => {
    if ((p.cmd === 'puback' || p.cmd === 'pubrec') && (p.reasonCode ?? 0) >= 0x80)
      refusals.push(p.reasonCode ?? 0);
  });
  return { backend, held, probe, refusals };
}

/** 200 QoS 2 publishes at once: every one acknowledged, and each delivered exactly once. */
async function publishAll(probe: LinkProbe, backend: MqttObserver): Promise<void> {
  const outcomes = await Promise.all(
    Array.from({ length: 200 }, (_, i) => probe.publish('ocpp/cp/cp1/Reply', `outcome ${i}`, 2)),
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
}

describe('a resumed session releases the QoS 2 publishes an earlier connection left half done (src/bridge/orphan-release.ts)', () => {
  it('delivers them, and the broker quota they held is free again: no publish is refused', async () => {
    const { backend, held, probe, refusals } = await resumeHalfDoneSession('ocpp-gw-orphans', true);
    const [resumed] = probe.lines(RESUMED);
    assert.equal(resumed?.packetIds, PACKET_ID_WINDOW, 'a PUBREL for every id of the window');
    assert.equal(resumed?.answered, true);
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
    // Published at once: their packet ids are ids just released, whose PUBCOMPs a publish must
    // not take for its own (OrphanRelease.releasing).
    await publishAll(probe, backend);
    assert.deepEqual(refusals, [], 'no Quota exceeded (0x97): the released publishes no longer count');
  });

  it('sends nothing when the session is new', async () => {
    const broker = await Mosquitto.start();
    started.push(broker);
    const probe = await probeLink(broker.url, { clientId: 'ocpp-gw-fresh', sessionExpiryS: 300 });
    started.push({ stop: () => probe.link.end(500) });
    assert.equal(probe.link.connack.sessionPresent, false);
    assert.equal(probe.lines(RESUMED).length, 0);
  });
});

describe('a publish the broker refuses for its quota (0x97) is sent again', () => {
  it('loses no outcome on a resumed session whose quota a dead connection used up (release off)', async () => {
    const { backend, probe, refusals } = await resumeHalfDoneSession('ocpp-gw-quota', false);
    await publishAll(probe, backend);
    assert.ok(
      refusals.includes(0x97),
      `mosquitto refused with Quota exceeded (saw ${JSON.stringify(refusals)})`,
    );
  });
});
