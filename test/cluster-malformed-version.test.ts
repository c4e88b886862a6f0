import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture } from './harness/cluster.js';
import { ChargePoint } from './harness/cp-client.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { ownerEntries } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

type Reply = { MessageTypeId: number; UniqueId: string; ErrorCode: string; ErrorDetails: unknown };

const STATIONS = [
  { cid: 'cmv-16', protocol: 'ocpp1.6', protoVer: '1.6', code: 'FormationViolation' },
  { cid: 'cmv-201', protocol: 'ocpp2.0.1', protoVer: '2.0.1', code: 'FormatViolation' },
  { cid: 'cmv-21', protocol: 'ocpp2.1', protoVer: '2.1', code: 'FormatViolation' },
] as const;

/**
 * A malformed downstream CALL read by a node that does not hold the station's socket is answered
 * in the station's version all the same (OCPP-J 1.6 §4.2.3 `FormationViolation`, OCPP-J 2.0.1
 * Part 4 §4.3 `FormatViolation`): the owner entry's epoch names the version (docs/architecture.md
 * §5.2). Node 0 holds the stations and takes no commands from the broker
 * (OCPP_GW_DOWNSTREAM_SUBSCRIBE=false), so node 1 reads every command.
 */
describe('malformed downstream CALLs read by a node that does not hold the station', () => {
  let f: ClusterFixture;
  let backend: MqttObserver;
  const cps: ChargePoint[] = [];
  before(async () => {
    f = await ClusterFixture.start(
      'standalone',
      2,
      { OCPP_GW_UPSTREAM_ERROR_TOPIC: 'err/${version}/${cid}' },
      { nodeEnv: (i) => ({ OCPP_GW_DOWNSTREAM_SUBSCRIBE: String(i === 1) }) },
    );
    backend = await MqttObserver.connect(f.mosquitto.url, ['ocpp/err/#']);
    for (const { cid, protocol } of STATIONS) cps.push(await ChargePoint.connect(f.url(0, cid), [protocol]));
    await eventually(async () => (await ownerEntries(f)).size >= STATIONS.length, 5000, 'owner entries');
  });
  after(async () => {
    for (const cp of cps) cp.ws.terminate();
    await backend.end();
    await f.teardown();
  });

  for (const { cid, protoVer, code } of STATIONS) {
    it(`${protoVer}: ${code} under the station's version, from node 1`, async () => {
      await f.backend.publish(`ocpp/cs/${cid}`, { MessageTypeId: 2, UniqueId: 'bad-1', Payload: {} });
      const reply = await backend.waitFor(
        (topic) => topic.endsWith(`/${cid}`),
        (j: Reply) => j.UniqueId === 'bad-1',
        10_000,
      );
      assert.equal(reply.topic, `ocpp/err/${protoVer}/${cid}`);
      const json = reply.json as Reply;
      assert.equal(json.MessageTypeId, 4);
      assert.equal(json.ErrorCode, code);
      assert.deepEqual(json.ErrorDetails, { origin: 'gateway', reason: 'malformed' });
      assert.equal(reply.userProperties?.['gateway-node'], 'node-1', 'answered by the node that read it');
    });
  }

  it('a station connected nowhere keeps the default (1.6) spelling under an unknown version', async () => {
    await f.backend.publish('ocpp/cs/cmv-absent', { MessageTypeId: 2, UniqueId: 'bad-2', Payload: {} });
    const reply = await backend.waitFor(
      (topic) => topic.endsWith('/cmv-absent'),
      (j: Reply) => j.UniqueId === 'bad-2',
      10_000,
    );
    assert.equal(reply.topic, 'ocpp/err/unknown/cmv-absent');
    assert.equal((reply.json as Reply).ErrorCode, 'FormationViolation');
  });
});
