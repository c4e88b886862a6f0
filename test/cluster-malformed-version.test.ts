import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture } from './harness/cluster.js';
import { ChargePoint } from './harness/cp-client.js';
import {
  assertMalformedReply,
  malformedVersionStations,
  UNKNOWN_VERSION,
  type ErrorReply,
} from './harness/malformed-versions.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { ownerEntries } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

const STATIONS = malformedVersionStations('cmv');

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

  for (const station of STATIONS) {
    const { cid, protoVer, code } = station;
    it(`${protoVer}: ${code} under the station's version, from node 1`, async () => {
      await f.backend.publish(`ocpp/cs/${cid}`, { MessageTypeId: 2, UniqueId: 'bad-1', Payload: {} });
      const reply = await backend.waitFor(
        (topic) => topic.endsWith(`/${cid}`),
        (j: ErrorReply) => j.UniqueId === 'bad-1',
        10_000,
      );
      assertMalformedReply(reply, station);
      assert.equal(reply.userProperties?.['gateway-node'], 'node-1', 'answered by the node that read it');
    });
  }

  it('a station connected nowhere keeps the default (1.6) spelling under an unknown version', async () => {
    await f.backend.publish('ocpp/cs/cmv-absent', { MessageTypeId: 2, UniqueId: 'bad-2', Payload: {} });
    const reply = await backend.waitFor(
      (topic) => topic.endsWith('/cmv-absent'),
      (j: ErrorReply) => j.UniqueId === 'bad-2',
      10_000,
    );
    assert.equal(reply.topic, `ocpp/err/${UNKNOWN_VERSION.protoVer}/cmv-absent`);
    assert.equal((reply.json as ErrorReply).ErrorCode, UNKNOWN_VERSION.code);
  });
});
