import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RPCClient } from 'ocpp-rpc';

type RPCClientOptions = ConstructorParameters<typeof RPCClient>[0];
import { BROKER_MODES, setup, type Fixture } from './harness/fixture.js';

type Call = { MessageTypeId: number; UniqueId: string; Action: string; Payload: Record<string, unknown> };
type Reply = { MessageTypeId: number; UniqueId: string; Action?: string; Payload?: Record<string, unknown> };

const now = (): string => new Date().toISOString();

/** A CSMS that answers every charge-point CALL over MQTT with a schema-valid OCPP 1.6 response. */
function answerFor(call: Call): Record<string, unknown> {
  switch (call.Action) {
    case 'BootNotification':
      return { status: 'Accepted', currentTime: now(), interval: 300 };
    case 'Heartbeat':
      return { currentTime: now() };
    case 'Authorize':
    case 'StopTransaction':
      return { idTagInfo: { status: 'Accepted' } };
    case 'StartTransaction':
      return { transactionId: 42, idTagInfo: { status: 'Accepted' } };
    default:
      return {};
  }
}

for (const mode of BROKER_MODES) {
  describe(`third-party charge point (ocpp-rpc, strictMode) through the gateway (${mode} broker)`, () => {
    let fx: Fixture;
    let client: RPCClient;
    const cid = 'RPC-CP-1';

    before(async () => {
      fx = await setup(mode, { OCPP_GW_SCHEMA_VALIDATION: 'all' });
      fx.backend.client.on('message', (topic, payload) => {
        if (topic !== `ocpp/cp/${cid}`) return;
        const call = JSON.parse(payload.toString()) as Call;
        void fx.backend.publish(`ocpp/cs/${cid}`, {
          MessageTypeId: 3,
          UniqueId: call.UniqueId,
          Payload: answerFor(call),
        });
      });
      // ocpp-rpc's .d.ts marks every option required; the library itself defaults the rest.
      const options: Partial<RPCClientOptions> = {
        endpoint: fx.wsBase.replace(/\/$/, ''),
        identity: cid,
        protocols: ['ocpp1.6'],
        strictMode: true,
        reconnect: false,
        callTimeoutMs: 5000,
      };
      client = new RPCClient(options as RPCClientOptions);
      client.handle('RemoteStartTransaction', () => Promise.resolve({ status: 'Accepted' }));
      client.handle('Reset', () => Promise.resolve({ status: 'Accepted' }));
      await client.connect();
    });
    after(async () => {
      await client.close({ force: true });
      await fx.teardown();
    });

    it('runs a charging session upstream with answers from the MQTT backend', async () => {
      const boot = (await client.call('BootNotification', {
        chargePointVendor: 'Acme',
        chargePointModel: 'X1',
      })) as { status: string; interval: number };
      assert.equal(boot.status, 'Accepted');
      assert.equal(boot.interval, 300);
      await client.call('Heartbeat', {});
      await client.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
      const auth = (await client.call('Authorize', { idTag: 'TAG1' })) as { idTagInfo: { status: string } };
      assert.equal(auth.idTagInfo.status, 'Accepted');
      const start = (await client.call('StartTransaction', {
        connectorId: 1,
        idTag: 'TAG1',
        meterStart: 0,
        timestamp: now(),
      })) as { transactionId: number };
      assert.equal(start.transactionId, 42);
      await client.call('MeterValues', {
        connectorId: 1,
        transactionId: 42,
        meterValue: [
          {
            timestamp: now(),
            sampledValue: [{ value: '1234', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          },
        ],
      });
      await client.call('StopTransaction', {
        transactionId: 42,
        meterStop: 1234,
        timestamp: now(),
        idTag: 'TAG1',
        reason: 'Local',
      });
      const actions = fx.backend.on(`ocpp/cp/${cid}`).map((m) => (m.json as Call).Action);
      assert.deepEqual(actions, [
        'BootNotification',
        'Heartbeat',
        'StatusNotification',
        'Authorize',
        'StartTransaction',
        'MeterValues',
        'StopTransaction',
      ]);
      assert.equal(fx.gateway.sessions.lookup(cid)?.state, 'booted');
    });

    it('executes RemoteStartTransaction and Reset sent by the backend', async () => {
      await fx.backend.publish(`ocpp/cs/${cid}`, {
        MessageTypeId: 2,
        UniqueId: 'rs-1',
        Action: 'RemoteStartTransaction',
        Payload: { idTag: 'TAG1', connectorId: 1 },
      });
      await fx.backend.publish(`ocpp/cs/${cid}`, {
        MessageTypeId: 2,
        UniqueId: 'reset-1',
        Action: 'Reset',
        Payload: { type: 'Soft' },
      });
      const rs = await fx.backend.waitFor(`ocpp/cp/${cid}/Reply`, (j: Reply) => j.UniqueId === 'rs-1', 5000);
      assert.deepEqual(rs.json, {
        MessageTypeId: 3,
        UniqueId: 'rs-1',
        Payload: { status: 'Accepted' },
        Action: 'RemoteStartTransaction',
      });
      const reset = await fx.backend.waitFor(
        `ocpp/cp/${cid}/Reply`,
        (j: Reply) => j.UniqueId === 'reset-1',
        5000,
      );
      assert.deepEqual(reset.json, {
        MessageTypeId: 3,
        UniqueId: 'reset-1',
        Payload: { status: 'Accepted' },
        Action: 'Reset',
      });
    });
  });
}
