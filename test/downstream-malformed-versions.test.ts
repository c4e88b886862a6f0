import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChargePoint } from './harness/cp-client.js';
import { setup, type Fixture } from './harness/fixture.js';
import {
  assertMalformedReply,
  malformedVersionStations,
  UNKNOWN_VERSION,
  type ErrorReply,
} from './harness/malformed-versions.js';

/**
 * A downstream CALL the gateway cannot parse (a usable UniqueId, the rest broken) is answered on
 * the Reply topic in the words of the station's version: "Payload for Action is syntactically
 * incorrect" is `FormationViolation` in OCPP-J 1.6 §4.2.3 and `FormatViolation` in OCPP-J 2.0.1
 * Part 4 §4.3 (2.1 keeps the 2.0.1 table). Real mosquitto, MQTT 5 backend, raw WebSocket stations.
 */
const STATIONS = malformedVersionStations('dmv');

/** Nested one level beyond the gateway's JSON depth limit (64). */
function tooDeep(): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < 70; i++) value = { a: value };
  return value;
}

const BROKEN: readonly { readonly name: string; readonly body: (id: string) => Record<string, unknown> }[] = [
  { name: 'no Action', body: (id) => ({ MessageTypeId: 2, UniqueId: id, Payload: {} }) },
  { name: 'no Payload', body: (id) => ({ MessageTypeId: 2, UniqueId: id, Action: 'Reset' }) },
  {
    name: 'Payload not an object',
    body: (id) => ({ MessageTypeId: 2, UniqueId: id, Action: 'Reset', Payload: [1] }),
  },
  {
    name: 'Payload nested too deep',
    body: (id) => ({ MessageTypeId: 2, UniqueId: id, Action: 'DataTransfer', Payload: tooDeep() }),
  },
];

/** The error topic of `cid` under any version, so a wrong version fails on the code first. */
function errorTopicOf(cid: string): (topic: string) => boolean {
  return (topic) => topic.startsWith('ocpp/err/') && topic.endsWith(`/${cid}`);
}

describe('malformed downstream CALLs answered in the station’s own version', () => {
  let fx: Fixture;
  const cps = new Map<string, ChargePoint>();
  before(async () => {
    // The version in the error topic shows which session the reply was spelled for.
    fx = await setup('mosquitto', { OCPP_GW_UPSTREAM_ERROR_TOPIC: 'err/${version}/${cid}' });
    for (const { cid, protocol } of STATIONS) cps.set(cid, await fx.connect(cid, [protocol]));
  });
  after(() => fx.teardown());

  for (const station of STATIONS) {
    const { cid, protoVer, code } = station;
    it(`${protoVer}: every malformed CALL gets ${code}, and the station keeps its connection`, async () => {
      for (const [i, broken] of BROKEN.entries()) {
        const id = `m-${String(i)}`;
        await fx.backend.publish(`ocpp/cs/${cid}`, broken.body(id));
        const reply = await fx.backend.waitFor(
          errorTopicOf(cid),
          (j: ErrorReply) => j.UniqueId === id,
          10_000,
        );
        assertMalformedReply(reply, station, broken.name);
      }
      // A well-formed command still reaches the station afterwards.
      await fx.backend.publish(`ocpp/cs/${cid}`, {
        MessageTypeId: 2,
        UniqueId: 'ok-1',
        Action: 'ClearCache',
        Payload: {},
      });
      const cp = cps.get(cid);
      assert.ok(cp !== undefined);
      assert.deepEqual(await cp.next((m) => (m as unknown[])[1] === 'ok-1'), [2, 'ok-1', 'ClearCache', {}]);
    });
  }

  it('a station not connected here gets the default (1.6) spelling under an unknown version', async () => {
    await fx.backend.publish('ocpp/cs/dmv-absent', { MessageTypeId: 2, UniqueId: 'x-1', Action: 'Reset' });
    const reply = await fx.backend.waitFor(
      errorTopicOf('dmv-absent'),
      (j: ErrorReply) => j.UniqueId === 'x-1',
      10_000,
    );
    assert.equal((reply.json as ErrorReply).ErrorCode, UNKNOWN_VERSION.code);
    assert.equal(reply.topic, `ocpp/err/${UNKNOWN_VERSION.protoVer}/dmv-absent`);
  });
});
