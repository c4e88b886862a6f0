import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

/**
 * Issue 8 item 2: what a peer sends must never choose a topic level. With `${action}` or `${id}`
 * in a topic template, `Heart/beat` would add a level and `Heart#` (a wildcard) or U+0085 makes
 * mosquitto drop the gateway's connection. Real mosquitto: the embedded broker tolerates both.
 */

const BAD_ACTIONS = ['Heart/beat', 'Heart#', 'Heart+', 'Heart\u0085beat'];
const BAD_IDS = ['a/b', 'a#', 'a+', 'a\u0085b', 'a\uffffb', 'a\ud800b'];
const ACTION_RULE = 'Action must be 1..64 letters and digits';
const ID_RULE = 'UniqueId must not contain / + #, control characters or Unicode non-characters';

/** mosquitto disconnects a client over a malformed PUBLISH: a dropped link shows as /readyz 503. */
async function assertLinkStaysUp(fx: Fixture): Promise<void> {
  for (let i = 0; i < 8; i++) {
    assert.equal((await fetch(`${fx.httpBase}/readyz`)).status, 200, 'MQTT link still connected');
    await sleep(100);
  }
}

/** Everything the backend saw from this charge point (any topic under ocpp/cp/{cid}). */
function publishedFor(fx: Fixture, cid: string): string[] {
  return fx.backend.seen
    .filter((m) => m.topic === `ocpp/cp/${cid}` || m.topic.startsWith(`ocpp/cp/${cid}/`))
    .map((m) => m.topic);
}

async function frameErrors(fx: Fixture): Promise<number> {
  const text = await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_frame_errors_total');
  const line = text.split('\n').find((l) => l.includes('error_code="FormationViolation"'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('topic injection through ${action} (OCPP_GW_UPSTREAM_TOPIC=cp/${cid}/${action}, mosquitto)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', { OCPP_GW_UPSTREAM_TOPIC: 'cp/${cid}/${action}' });
  });
  after(() => fx.teardown());

  for (const [i, action] of BAD_ACTIONS.entries()) {
    it(`answers Action ${JSON.stringify(action)} with FormationViolation and publishes nothing`, async () => {
      const cid = `inj-action-${i}`;
      const cp = await fx.connect(cid);
      cp.send([2, 'bad1', action, {}]);
      assert.deepEqual(await cp.next(), [4, 'bad1', 'FormationViolation', ACTION_RULE, {}]);
      await assertLinkStaysUp(fx);
      cp.send([2, 'ok1', 'Heartbeat', {}]);
      await fx.backend.waitFor(
        `ocpp/cp/${cid}/Heartbeat`,
        (j: { UniqueId?: string }) => j.UniqueId === 'ok1',
      );
      assert.deepEqual(publishedFor(fx, cid), [`ocpp/cp/${cid}/Heartbeat`]);
      assert.equal(cp.closed, undefined);
    });
  }

  it('still bridges every action name of letters and digits', async () => {
    const cp = await fx.connect('inj-action-ok');
    cp.send([2, 'v1', 'Get15118EVCertificate', {}]);
    await fx.backend.waitFor('ocpp/cp/inj-action-ok/Get15118EVCertificate');
    cp.send([2, 'v2', 'A'.repeat(65), {}]);
    assert.deepEqual(await cp.next(), [4, 'v2', 'FormationViolation', ACTION_RULE, {}]);
  });
});

describe('topic injection through ${id} (every upstream template holds ${id}, mosquitto)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await setup('mosquitto', {
      OCPP_GW_UPSTREAM_TOPIC: 'cp/${cid}/${action}/${id}',
      OCPP_GW_UPSTREAM_REPLY_TOPIC: 'cp/${cid}/Reply/${id}',
      OCPP_GW_UPSTREAM_ERROR_TOPIC: 'cp/${cid}/Reply/${id}',
    });
  });
  after(() => fx.teardown());

  for (const [i, id] of BAD_IDS.entries()) {
    it(`answers a CALL with UniqueId ${JSON.stringify(id)} under that id and publishes nothing`, async () => {
      const cid = `inj-id-${i}`;
      const cp = await fx.connect(cid);
      cp.send([2, id, 'Heartbeat', {}]);
      assert.deepEqual(await cp.next(), [4, id, 'FormationViolation', ID_RULE, {}]);
      await assertLinkStaysUp(fx);
      cp.send([2, 'ok1', 'Heartbeat', {}]);
      await fx.backend.waitFor(`ocpp/cp/${cid}/Heartbeat/ok1`);
      assert.deepEqual(publishedFor(fx, cid), [`ocpp/cp/${cid}/Heartbeat/ok1`]);
    });
  }

  it('neither answers nor publishes a CALLRESULT/CALLERROR with such an id, and counts it', async () => {
    const cp = await fx.connect('inj-reply');
    const before = await frameErrors(fx);
    for (const id of BAD_IDS) {
      cp.send([3, id, {}]);
      cp.send([4, id, 'GenericError', '', {}]);
    }
    await assertLinkStaysUp(fx);
    assert.equal(cp.inbox.length, 0, 'a CALLERROR answers a CALL only (OCPP-J 1.6 §4.2.3)');
    assert.deepEqual(publishedFor(fx, 'inj-reply'), []);
    assert.equal((await frameErrors(fx)) - before, BAD_IDS.length * 2);
    cp.send([2, 'ok2', 'Heartbeat', {}]);
    await fx.backend.waitFor('ocpp/cp/inj-reply/Heartbeat/ok2');
  });

  it('reports a backend message with such a UniqueId on the diagnostics topic, never on ${id}', async () => {
    const cp = await fx.connect('inj-down');
    const messages = [
      { MessageTypeId: 2, UniqueId: 'c/1', Action: 'Reset', Payload: { type: 'Soft' } },
      { MessageTypeId: 2, UniqueId: 'c#', Action: 'Reset', Payload: { type: 'Soft' } },
      { MessageTypeId: 3, UniqueId: 'c+', Payload: {} },
      { MessageTypeId: 4, UniqueId: 'c\u0085', ErrorCode: 'GenericError', ErrorDescription: '' },
    ];
    // Also for a charge point that is not connected: its error reply would go to ${id} too.
    for (const m of messages) await fx.backend.publish('ocpp/cs/inj-down', m);
    await fx.backend.publish('ocpp/cs/inj-nobody', messages[1]);
    const diagnostics = (): unknown[] =>
      fx.backend
        .on('ocpp/gw/diagnostics')
        .map((m) => m.json)
        .filter((j) => (j as { problem?: string }).problem === 'bad_unique_id');
    for (let i = 0; i < 30 && diagnostics().length < messages.length + 1; i++) await sleep(100);
    assert.equal(diagnostics().length, messages.length + 1);
    for (const d of diagnostics()) assert.equal((d as { reason: string }).reason, 'malformed');
    await assertLinkStaysUp(fx);
    assert.equal(cp.inbox.length, 0, 'nothing written to the charge point');
    assert.deepEqual(publishedFor(fx, 'inj-down'), []);
    assert.deepEqual(publishedFor(fx, 'inj-nobody'), []);
    // The link is up and the station reachable: a normal command still goes through.
    await fx.backend.publish('ocpp/cs/inj-down', {
      MessageTypeId: 2,
      UniqueId: 'fine1',
      Action: 'Reset',
      Payload: { type: 'Soft' },
    });
    assert.deepEqual(await cp.next(), [2, 'fine1', 'Reset', { type: 'Soft' }]);
    cp.send([3, 'fine1', { status: 'Accepted' }]);
    await fx.backend.waitFor('ocpp/cp/inj-down/Reply/fine1');
  });
});
