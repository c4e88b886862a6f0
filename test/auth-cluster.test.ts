import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  answerAll,
  attempt,
  basic,
  changeConfiguration,
  credentials,
  eventually,
  series,
} from './harness/auth.js';
import { ClusterFixture, command } from './harness/cluster.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

const OLD_KEY = 'a1a2a3a4a5a6a7a8a9b0b1b2b3b4b5b6b7b8b9c0';
const NEW_KEY = 'c1c2c3c4c5c6c7c8c9d0d1d2d3d4d5d6d7d8d9e0';

/**
 * Issue 10 items 2 and 5 in cluster mode: three gateway processes share the credential store in
 * Redis (written by the CLI); a key rotated through a station on node 0 authenticates on node 1,
 * the old key is revoked once the new one was used, and an accepted SecurityProfile change
 * makes a plain-ws connection a refused downgrade.
 */
describe('credential store in Redis shared by 3 nodes: rotation and profile follow the backend', () => {
  let fx: ClusterFixture;
  let events: MqttObserver;
  let cliEnv: Record<string, string>;
  before(async () => {
    fx = await ClusterFixture.start('standalone', 3, { OCPP_GW_AUTH_MODE: 'basic' });
    cliEnv = { OCPP_GW_REDIS_URL: fx.redis?.url ?? '' };
    events = await MqttObserver.connect(fx.mosquitto.url, ['ocpp/events/#']);
  });
  after(async () => {
    await events.end();
    await fx.teardown();
  });
  let probes = 0;
  /**
   * Sends a harmless command until the station's new session answers it: the cluster may still
   * route to the session just closed (answered `offline`) until the new one is registered.
   */
  const untilRoutable = async (cid: string): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      const id = `probe-${++probes}`;
      await fx.backend.publish(`ocpp/cs/${cid}`, command(id));
      const reply = await fx.backend.waitFor(
        `ocpp/cp/${cid}/Reply`,
        (j: { UniqueId?: string }) => j.UniqueId === id,
      );
      if ((reply.json as { MessageTypeId?: number }).MessageTypeId === 3) return;
      await sleep(100);
    }
    throw new Error(`${cid} not routable`);
  };
  const connected = (cid: string): number =>
    events.seen.filter((m) => m.topic === `ocpp/events/${cid}/connected`).length;

  it('the CLI writes, shows and deletes records in Redis; every node reads them', async () => {
    const set = await credentials(['set', 'CP-R', '--password-stdin', '--profile', '1'], cliEnv, OLD_KEY);
    assert.equal(set.code, 0, set.stderr);
    for (const index of [0, 1, 2]) {
      const answer = await attempt(fx.url(index, 'CP-R'), {
        authorization: basic('CP-R', Buffer.from(OLD_KEY, 'hex')),
      });
      assert.equal(answer.status, 101, `node ${index}`);
      answer.ws?.terminate();
    }
    const temp = await credentials(['set', 'CP-TEMP', '--generate'], cliEnv);
    assert.equal((await credentials(['show', 'CP-TEMP'], cliEnv)).json?.profile, 1);
    assert.equal((await credentials(['delete', 'CP-TEMP'], cliEnv)).code, 0);
    const gone = await attempt(fx.url(2, 'CP-TEMP'), {
      authorization: basic('CP-TEMP', String(temp.json?.password)),
    });
    assert.deepEqual([gone.status, gone.body], [401, 'unknown_station']);
  });

  it('stores the key of an accepted ChangeConfiguration; the new key works on another node, then the old is revoked', async () => {
    const station = await attempt(fx.url(0, 'CP-R'), { authorization: basic('CP-R', OLD_KEY) });
    assert.equal(station.status, 101);
    const ws = station.ws;
    assert.ok(ws !== undefined);
    answerAll(ws);
    await untilRoutable('CP-R');
    await fx.backend.publish('ocpp/cs/CP-R', changeConfiguration('rot-1', 'AuthorizationKey', NEW_KEY));
    const reply1 = await fx.backend.waitFor(
      'ocpp/cp/CP-R/Reply',
      (j: { UniqueId?: string }) => j.UniqueId === 'rot-1',
    );
    assert.equal((reply1.json as { MessageTypeId?: number }).MessageTypeId, 3);
    await eventually(
      () => credentials(['show', 'CP-R'], cliEnv),
      (r) => r.json?.secrets === 2,
    );
    ws.terminate();
    // Both keys are valid until the station first connects with the new one.
    const stillOld = await attempt(fx.url(1, 'CP-R'), { authorization: basic('CP-R', OLD_KEY) });
    assert.equal(stillOld.status, 101, 'the old key works until the new one is used');
    stillOld.ws?.terminate();
    const withNew = await attempt(fx.url(1, 'CP-R'), {
      authorization: basic('CP-R', Buffer.from(NEW_KEY, 'hex')),
    });
    assert.equal(withNew.status, 101, 'the rotated key authenticates on another node');
    withNew.ws?.terminate();
    await eventually(
      () => credentials(['show', 'CP-R'], cliEnv),
      (r) => r.json?.secrets === 1,
    );
    const before = connected('CP-R');
    const revoked = await attempt(fx.url(2, 'CP-R'), { authorization: basic('CP-R', OLD_KEY) });
    assert.deepEqual([revoked.status, revoked.body], [401, 'bad_password'], 'the old key is revoked');
    await sleep(300);
    assert.equal(connected('CP-R'), before, 'nothing published for the refused upgrade');
  });

  it('a rejected ChangeConfiguration changes nothing', async () => {
    const station = await attempt(fx.url(0, 'CP-R'), { authorization: basic('CP-R', NEW_KEY) });
    assert.equal(station.status, 101);
    answerAll(station.ws!, 'Rejected');
    await untilRoutable('CP-R');
    await fx.backend.publish('ocpp/cs/CP-R', changeConfiguration('rot-2', 'AuthorizationKey', OLD_KEY));
    const reply2 = await fx.backend.waitFor(
      'ocpp/cp/CP-R/Reply',
      (j: { UniqueId?: string }) => j.UniqueId === 'rot-2',
    );
    assert.equal((reply2.json as { MessageTypeId?: number }).MessageTypeId, 3);
    await sleep(300);
    assert.equal((await credentials(['show', 'CP-R'], cliEnv)).json?.secrets, 1);
    station.ws?.terminate();
    const refusedKey = await attempt(fx.url(1, 'CP-R'), { authorization: basic('CP-R', OLD_KEY) });
    assert.deepEqual(
      [refusedKey.status, refusedKey.body],
      [401, 'bad_password'],
      'the refused key is not valid',
    );
  });

  it('an accepted SecurityProfile 2 raises the record; plain ws is then a downgrade on every node', async () => {
    const station = await attempt(fx.url(0, 'CP-R'), { authorization: basic('CP-R', NEW_KEY) });
    assert.equal(station.status, 101);
    answerAll(station.ws!);
    await untilRoutable('CP-R');
    await fx.backend.publish('ocpp/cs/CP-R', changeConfiguration('sp-1', 'SecurityProfile', '2'));
    const reply = await fx.backend.waitFor(
      'ocpp/cp/CP-R/Reply',
      (j: { UniqueId?: string }) => j.UniqueId === 'sp-1',
    );
    assert.equal((reply.json as { MessageTypeId?: number }).MessageTypeId, 3, JSON.stringify(reply.json));
    await eventually(
      () => credentials(['show', 'CP-R'], cliEnv),
      (r) => r.json?.profile === 2,
    );
    station.ws?.terminate();
    const before = connected('CP-R');
    // Node 0 cached the verification: its cache was dropped when it stored the change.
    for (const index of [0, 1, 2]) {
      const answer = await attempt(fx.url(index, 'CP-R'), { authorization: basic('CP-R', NEW_KEY) });
      assert.deepEqual([answer.status, answer.body], [401, 'downgrade'], `node ${index}`);
    }
    await sleep(300);
    assert.equal(connected('CP-R'), before, 'nothing published for a refused downgrade');
    const text = await fx.metrics(2);
    assert.equal(series(text, 'ocpp_gateway_auth_failures_total{reason="downgrade"}'), 1);
  });
});
