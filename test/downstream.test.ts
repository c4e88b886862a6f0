import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACK, BOOT, BROKER_MODES, setup, type Fixture } from './harness/fixture.js';
import { sleep } from './harness/time.js';

const RESET = (id: string): Record<string, unknown> => ({
  MessageTypeId: 2,
  UniqueId: id,
  Action: 'Reset',
  Payload: { type: 'Soft' },
});
type Reply = {
  MessageTypeId: number;
  UniqueId: string;
  ErrorCode?: string;
  ErrorDetails?: Record<string, unknown>;
  Action?: string;
};

for (const mode of BROKER_MODES) {
  describe(`downstream mapping (${mode} broker)`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await setup(mode, { OCPP_GW_CALL_TIMEOUT_MS: '400', OCPP_GW_MAX_QUEUE_LENGTH: '2' });
    });
    after(() => fx.teardown());

    it('delivers a CALLRESULT to the CP', async () => {
      const cp = await fx.connect('d1');
      cp.send(BOOT('3335862321'));
      await fx.backend.waitFor('ocpp/cp/d1');
      await fx.backend.publish('ocpp/cs/d1', ACK('3335862321'));
      assert.deepEqual(await cp.next(), [
        3,
        '3335862321',
        { currentTime: '2023-06-21T14:20:39+00:00', interval: 300, status: 'Accepted' },
      ]);
    });

    it('delivers a CALL and publishes the answer with its Action', async () => {
      const cp = await fx.connect('d2');
      await fx.backend.publish('ocpp/cs/d2', RESET('r1'));
      assert.deepEqual(await cp.next(), [2, 'r1', 'Reset', { type: 'Soft' }]);
      cp.send([3, 'r1', { status: 'Accepted' }]);
      const reply = await fx.backend.waitFor('ocpp/cp/d2/Reply');
      assert.deepEqual(reply.json, {
        MessageTypeId: 3,
        UniqueId: 'r1',
        Payload: { status: 'Accepted' },
        Action: 'Reset',
      });
    });

    it('delivers a CALLERROR with the backend ErrorDetails (EMQX always sends {})', async () => {
      const cp = await fx.connect('d3');
      await fx.backend.publish('ocpp/cs/d3', {
        MessageTypeId: 4,
        UniqueId: 'u1',
        ErrorCode: 'NotImplemented',
        ErrorDescription: 'x',
        ErrorDetails: { a: 1 },
      });
      assert.deepEqual(await cp.next(), [4, 'u1', 'NotImplemented', 'x', { a: 1 }]);
      await fx.backend.publish('ocpp/cs/d3', {
        MessageTypeId: 4,
        UniqueId: 'u2',
        ErrorCode: 'GenericError',
        ErrorDescription: 'y',
      });
      assert.deepEqual(await cp.next(), [4, 'u2', 'GenericError', 'y', {}]);
    });

    it('ignores extra keys', async () => {
      const cp = await fx.connect('d4');
      await fx.backend.publish('ocpp/cs/d4', {
        MessageTypeId: 3,
        UniqueId: 'q',
        Payload: {},
        Action: 'BootNotification',
        Foo: 1,
      });
      assert.deepEqual(await cp.next(), [3, 'q', {}]);
    });

    it('serialises CALLs: the 2nd is written only after the 1st is answered', async () => {
      const cp = await fx.connect('d5');
      await fx.backend.publish('ocpp/cs/d5', RESET('s1'));
      await fx.backend.publish('ocpp/cs/d5', RESET('s2'));
      await fx.backend.publish('ocpp/cs/d5', RESET('s3'));
      assert.deepEqual(await cp.next(), [2, 's1', 'Reset', { type: 'Soft' }]);
      await sleep(200);
      assert.equal(cp.inbox.length, 0, 's2 must wait for the answer to s1');
      cp.send([3, 's1', { status: 'Accepted' }]);
      assert.deepEqual(await cp.next(), [2, 's2', 'Reset', { type: 'Soft' }]);
      await sleep(100);
      assert.equal(cp.inbox.length, 0, 's3 must wait for the answer to s2');
      cp.send([4, 's2', 'InternalError', 'busy', {}]);
      assert.deepEqual(await cp.next(), [2, 's3', 'Reset', { type: 'Soft' }]);
      cp.send([3, 's3', { status: 'Rejected' }]);
      const s2 = await fx.backend.waitFor('ocpp/cp/d5/Reply', (j: Reply) => j.UniqueId === 's2');
      assert.deepEqual(s2.json, {
        MessageTypeId: 4,
        UniqueId: 's2',
        ErrorCode: 'InternalError',
        ErrorDescription: 'busy',
        ErrorDetails: {},
        Action: 'Reset',
      });
      await fx.backend.waitFor('ocpp/cp/d5/Reply', (j: Reply) => j.UniqueId === 's3');
    });

    it('answers a CALL the CP never answers with a timeout error reply, then sends the next', async () => {
      const cp = await fx.connect('d6');
      await fx.backend.publish('ocpp/cs/d6', RESET('t1'));
      await fx.backend.publish('ocpp/cs/d6', RESET('t2'));
      assert.deepEqual(await cp.next(), [2, 't1', 'Reset', { type: 'Soft' }]);
      const reply = await fx.backend.waitFor('ocpp/cp/d6/Reply', (j: Reply) => j.UniqueId === 't1', 3000);
      assert.deepEqual(reply.json, {
        MessageTypeId: 4,
        UniqueId: 't1',
        ErrorCode: 'GenericError',
        ErrorDescription: 'no answer within 400 ms',
        ErrorDetails: { origin: 'gateway', reason: 'timeout' },
        Action: 'Reset',
      });
      if (mode === 'mosquitto') assert.equal(reply.userProperties?.origin, 'gateway');
      assert.deepEqual(await cp.next(), [2, 't2', 'Reset', { type: 'Soft' }]);
    });

    it('answers a CALL to an offline CP with an error reply', async () => {
      await fx.backend.publish('ocpp/cs/nobody-here', RESET('o1'));
      const reply = await fx.backend.waitFor('ocpp/cp/nobody-here/Reply');
      assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'offline' });
      assert.equal((reply.json as Reply).Action, 'Reset');
    });

    it('answers CALLs beyond the queue bound with queue_full', async () => {
      const cp = await fx.connect('d7');
      for (const id of ['f1', 'f2', 'f3', 'f4']) await fx.backend.publish('ocpp/cs/d7', RESET(id));
      const reply = await fx.backend.waitFor('ocpp/cp/d7/Reply', (j: Reply) => j.UniqueId === 'f4');
      assert.deepEqual((reply.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'queue_full' });
      assert.deepEqual(await cp.next(), [2, 'f1', 'Reset', { type: 'Soft' }]);
    });

    it('answers queued and outstanding CALLs when the CP disconnects', async () => {
      const cp = await fx.connect('d8');
      await fx.backend.publish('ocpp/cs/d8', RESET('x1'));
      await fx.backend.publish('ocpp/cs/d8', RESET('x2'));
      await cp.next();
      await cp.close();
      const x1 = await fx.backend.waitFor('ocpp/cp/d8/Reply', (j: Reply) => j.UniqueId === 'x1');
      const x2 = await fx.backend.waitFor('ocpp/cp/d8/Reply', (j: Reply) => j.UniqueId === 'x2');
      assert.equal((x1.json as Reply).ErrorDetails?.reason, 'disconnected');
      assert.equal((x2.json as Reply).ErrorDetails?.reason, 'offline');
    });

    it('sends each message of a burst as its own WebSocket message', async () => {
      const cp = await fx.connect('d9');
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          fx.backend.publish('ocpp/cs/d9', { MessageTypeId: 3, UniqueId: `b${i}`, Payload: {} }),
        ),
      );
      for (let i = 0; i < 5; i++) await cp.next();
      assert.equal(cp.rawInbox.length, 5);
      for (const raw of cp.rawInbox) assert.ok(Array.isArray(JSON.parse(raw)));
    });

    it('answers malformed downstream messages and keeps the connection', async () => {
      const cp = await fx.connect('d10');
      await fx.backend.publish('ocpp/cs/d10', 'not json');
      await fx.backend.publish('ocpp/cs/d10', '[2,"id","Reset",{}]');
      await fx.backend.publish('ocpp/cs/d10', { MessageTypeId: 2, UniqueId: 'np', Action: 'Reset' });
      await fx.backend.publish('ocpp/cs/d10', { MessageTypeId: '3', UniqueId: 'a', Payload: {} });
      await fx.backend.publish('ocpp/cs/d10', { MessageTypeId: 5, UniqueId: 'a' });
      await fx.backend.publish('ocpp/cs/d10', { MessageTypeId: 4, UniqueId: 'a', ErrorCode: 'X' });
      // The CALL with a usable id is answered on the Reply topic ...
      const np = await fx.backend.waitFor('ocpp/cp/d10/Reply', (j: Reply) => j.UniqueId === 'np');
      assert.equal((np.json as Reply).ErrorCode, 'FormationViolation');
      assert.deepEqual((np.json as Reply).ErrorDetails, { origin: 'gateway', reason: 'malformed' });
      // ... the others are reported on the diagnostics topic, one each.
      for (const problem of ['not_json', 'not_object', 'bad_message_type', 'bad_error_description']) {
        await fx.backend.waitFor(
          'ocpp/gw/diagnostics',
          (j: { problem?: string; cid?: string }) => j.problem === problem && j.cid === 'd10',
        );
      }
      assert.equal(
        fx.backend.on('ocpp/gw/diagnostics').filter((m) => (m.json as { cid?: string }).cid === 'd10').length,
        5,
      );
      assert.equal(cp.inbox.length, 0);
      await fx.backend.publish('ocpp/cs/d10', ACK('ok'));
      assert.deepEqual(await cp.next(), [3, 'ok', ACK('ok').Payload]);
    });

    it('passes replies with unknown ids through in both directions', async () => {
      const cp = await fx.connect('d11');
      cp.send([3, 'never-sent', {}]);
      await fx.backend.waitFor('ocpp/cp/d11/Reply', (j: Reply) => j.UniqueId === 'never-sent');
      await fx.backend.publish('ocpp/cs/d11', { MessageTypeId: 3, UniqueId: 'cp-never-asked', Payload: {} });
      assert.deepEqual(await cp.next(), [3, 'cp-never-asked', {}]);
      assert.equal(cp.closed, undefined);
    });
  });
}
