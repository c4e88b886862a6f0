import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setup, type Fixture } from './harness/fixture.js';
import type { ChargePoint } from './harness/cp-client.js';

const TOKEN = 'mixed-admin-token-0123456789';

const STATIONS = [
  { cid: 'mix-16', protocol: 'ocpp1.6', protoVer: '1.6', broken: 'FormationViolation' },
  { cid: 'mix-201', protocol: 'ocpp2.0.1', protoVer: '2.0.1', broken: 'RpcFrameworkError' },
  { cid: 'mix-21', protocol: 'ocpp2.1', protoVer: '2.1', broken: 'RpcFrameworkError' },
] as const;

type Json = Record<string, unknown>;

describe('one node holding 1.6, 2.0.1 and 2.1 stations at once (MQTT 3.1.1 backend)', () => {
  let fx: Fixture;
  const cps = new Map<string, ChargePoint>();
  before(async () => {
    // The embedded broker speaks MQTT 3.1.1: no user properties, so the version rides in the
    // topic (`${version}`) and in an opt-in payload key.
    fx = await setup('embedded', {
      OCPP_GW_ADMIN_TOKEN: TOKEN,
      OCPP_GW_UPSTREAM_TOPIC: 'cp/${version}/${cid}',
      OCPP_GW_PRESENCE_TOPIC: 'events/${version}/${cid}/${event}',
      OCPP_GW_PAYLOAD_VERSION_KEY: 'OcppVersion',
    });
    for (const { cid, protocol } of STATIONS) cps.set(cid, await fx.connect(cid, [protocol]));
  });
  after(() => fx.teardown());

  it('announces each with its proto_ver, on a topic naming the version', async () => {
    for (const { cid, protoVer } of STATIONS) {
      const event = await fx.backend.waitFor(`ocpp/events/${protoVer}/${cid}/connected`);
      assert.equal((event.json as Json).proto_ver, protoVer);
    }
    const metrics = await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_connections');
    for (const { protoVer } of STATIONS) assert.match(metrics, new RegExp(`version="${protoVer}"} 1\\b`));
  });

  it('publishes each station’s CALL under its version, with the version key in the payload', async () => {
    for (const { cid, protoVer } of STATIONS) {
      cps.get(cid)?.send([2, `hb-${cid}`, 'Heartbeat', {}]);
      const call = await fx.backend.waitFor(`ocpp/cp/${protoVer}/${cid}`);
      assert.equal(
        call.raw,
        `{"MessageTypeId":2,"UniqueId":"hb-${cid}","Action":"Heartbeat","Payload":{},"OcppVersion":"${protoVer}"}`,
      );
    }
  });

  it('answers the same broken frame in each station’s own version', async () => {
    for (const { cid, broken } of STATIONS) {
      const cp = cps.get(cid);
      cp?.send('[2,"bad","Heartbeat",{');
      assert.deepEqual(await cp?.next((m) => (m as unknown[])[1] === 'bad'), [
        4,
        'bad',
        broken,
        'message is not valid JSON',
        {},
      ]);
    }
  });

  it('routes a backend command to each and returns the answer with Action and version key', async () => {
    for (const { cid, protoVer } of STATIONS) {
      const payload = protoVer === '1.6' ? { type: 'Soft' } : { type: 'Immediate' };
      await fx.backend.publish(`ocpp/cs/${cid}`, {
        MessageTypeId: 2,
        UniqueId: `r-${cid}`,
        Action: 'Reset',
        Payload: payload,
      });
      const cp = cps.get(cid);
      assert.deepEqual(await cp?.next((m) => (m as unknown[])[0] === 2), [2, `r-${cid}`, 'Reset', payload]);
      cp?.send([3, `r-${cid}`, { status: 'Accepted' }]);
      const reply = await fx.backend.waitFor(`ocpp/cp/${cid}/Reply`, (j: Json) => j.UniqueId === `r-${cid}`);
      assert.deepEqual(reply.json, {
        MessageTypeId: 3,
        UniqueId: `r-${cid}`,
        Payload: { status: 'Accepted' },
        Action: 'Reset',
        OcppVersion: protoVer,
      });
    }
  });

  it('shows each version in the admin API', async () => {
    const res = await fetch(`${fx.httpBase}/api/v1/clients`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const list = (await res.json()) as { data: Array<{ clientid: string; proto_ver: string }> };
    const versions = Object.fromEntries(list.data.map((c) => [c.clientid, c.proto_ver]));
    assert.deepEqual(versions, { 'mix-16': '1.6', 'mix-201': '2.0.1', 'mix-21': '2.1' });
  });
});
