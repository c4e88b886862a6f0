import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Packet } from 'mqtt';
import type { GatewayEnv } from './harness/gateway.js';
import { answerCalls, ClusterFixture, command } from './harness/cluster.js';
import { ownerEntries } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

const CID = 'keep-cp';
const DOWN = 10; // commands published while the routing node is away

/**
 * The only routing node drains and comes back (docs/architecture.md §5.14, §6.2): node 0 holds the
 * downstream subscription, node 1 the station only. With OCPP_GW_DRAIN_UNSUBSCRIBE=false the
 * drained node keeps its subscription and MQTT session, so what the backend publishes while it is
 * away waits in mosquitto and is written after its return, in order; by default it unsubscribes
 * and the broker has nobody to give those commands to (PUBACK 0x10).
 */
describe('the only routing node drains and returns', { timeout: 120_000 }, () => {
  let f: ClusterFixture | undefined;
  // Each case's fixture goes, passed or failed: a failed case must not leave gateways running.
  afterEach(async () => {
    await f?.teardown();
    f = undefined;
  });

  async function drainAndPublish(drainUnsubscribe: boolean) {
    f = await ClusterFixture.start(
      'standalone',
      2,
      { OCPP_GW_DRAIN_SECONDS: '1' },
      {
        nodeEnv: (i): GatewayEnv =>
          i === 0
            ? { OCPP_GW_DRAIN_UNSUBSCRIBE: String(drainUnsubscribe) }
            : { OCPP_GW_DOWNSTREAM_SUBSCRIBE: 'false' },
      },
    );
    const fx = f;
    const cp = await fx.connect(1, CID);
    answerCalls(cp);
    await eventually(async () => (await ownerEntries(fx)).has(CID), 5000, 'owner entry');
    const reasons: number[] = [];
    fx.backend.client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'puback') reasons.push(packet.reasonCode ?? 0);
    });
    await fx.backend.publish(`ocpp/cs/${CID}`, command('k0'));
    await fx.backend.waitFor(
      `ocpp/cp/${CID}/Reply`,
      (m: { UniqueId?: string }) => m.UniqueId === 'k0',
      10_000,
    );
    // Some while it drains (it still routes, then holds), the rest while it is away.
    const exiting = fx.node(0).stop('SIGTERM');
    const draining = ['d1', 'd2', 'd3'];
    for (const id of draining) await fx.backend.publish(`ocpp/cs/${CID}`, command(id));
    assert.equal(await exiting, 0, 'the drained node exits 0');
    fx.nodes[0] = undefined;
    const drainReasons = reasons.splice(0);
    const away = Array.from({ length: DOWN }, (_, i) => `k${i + 1}`);
    for (const id of away) await fx.backend.publish(`ocpp/cs/${CID}`, command(id));
    await fx.startNode(0);
    return { fx, cp, ids: [...draining, ...away], reasons, drainReasons };
  }

  it('with OCPP_GW_DRAIN_UNSUBSCRIBE=false, commands published meanwhile wait and are written in order', async () => {
    const { fx, cp, ids, reasons, drainReasons } = await drainAndPublish(false);
    const nobody = [...drainReasons, ...reasons].filter((rc) => rc === 0x10);
    assert.deepEqual(nobody, [], 'no PUBACK says nobody subscribed');
    for (const id of ids)
      await fx.backend.waitFor(
        `ocpp/cp/${CID}/Reply`,
        (m: { MessageTypeId?: number; UniqueId?: string }) => m.MessageTypeId === 3 && m.UniqueId === id,
        15_000,
      );
    const written = cp.rawInbox.map((raw) => JSON.parse(raw) as unknown[]).filter((m) => m[0] === 2);
    assert.deepEqual(
      written.map((m) => m[1]),
      ['k0', ...ids],
    );
  });

  it('by default the broker has no subscriber for them while the node is away (PUBACK 0x10)', async () => {
    const { reasons } = await drainAndPublish(true);
    assert.deepEqual(
      reasons,
      Array.from({ length: DOWN }, () => 0x10),
    );
  });
});
