import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RPCClient, type IHandlersOption } from 'ocpp-rpc';
import { setup, type Fixture } from './harness/fixture.js';
import { SchemaPolicy } from '../src/ocpp/schema-policy.js';
import { V21 } from '../src/ocpp/versions/v21.js';
import type { SchemaValidator } from '../src/ocpp/schema-validator.js';

type RPCClientOptions = ConstructorParameters<typeof RPCClient>[0];
type Call = { MessageTypeId: number; UniqueId: string; Action: string; Payload: Record<string, unknown> };
type Reply = { MessageTypeId: number; UniqueId: string; Action?: string; Payload?: Record<string, unknown> };

const now = (): string => new Date().toISOString();

/** A CSMS answering every 2.x charge-point CALL over MQTT with a schema-valid response. */
function answerFor(call: Call): Record<string, unknown> {
  switch (call.Action) {
    case 'BootNotification':
      return { status: 'Accepted', currentTime: now(), interval: 240 };
    case 'Heartbeat':
      return { currentTime: now() };
    case 'Authorize':
      return { idTokenInfo: { status: 'Accepted' } };
    case 'TransactionEvent':
      return call.Payload.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {};
    default:
      return {};
  }
}

const evse = { id: 1, connectorId: 1 };
const meterValue = [
  { timestamp: now(), sampledValue: [{ value: 1234, measurand: 'Energy.Active.Import.Register' }] },
];
const transactionInfo = { transactionId: 'tx-1' };

/** What the charge point sends upstream, in order: [action, payload]. */
const UPSTREAM: Array<[string, Record<string, unknown>]> = [
  ['BootNotification', { chargingStation: { vendorName: 'Acme', model: 'X2' }, reason: 'PowerUp' }],
  ['Heartbeat', {}],
  ['StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 1, connectorId: 1 }],
  ['Authorize', { idToken: { idToken: 'TAG1', type: 'ISO14443' } }],
  [
    'TransactionEvent',
    {
      eventType: 'Started',
      timestamp: now(),
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo,
      evse,
      idToken: { idToken: 'TAG1', type: 'ISO14443' },
    },
  ],
  [
    'TransactionEvent',
    {
      eventType: 'Updated',
      timestamp: now(),
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      transactionInfo,
      meterValue,
    },
  ],
  ['MeterValues', { evseId: 1, meterValue }],
  [
    'TransactionEvent',
    {
      eventType: 'Ended',
      timestamp: now(),
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { ...transactionInfo, stoppedReason: 'Local' },
    },
  ],
];

/** What the backend sends downstream: [uniqueId, action, payload, the station's answer]. */
const DOWNSTREAM: Array<[string, string, Record<string, unknown>, Record<string, unknown>]> = [
  [
    'd-start',
    'RequestStartTransaction',
    { idToken: { idToken: 'TAG2', type: 'ISO14443' }, remoteStartId: 7 },
    { status: 'Accepted' },
  ],
  ['d-stop', 'RequestStopTransaction', { transactionId: 'tx-1' }, { status: 'Accepted' }],
  ['d-reset', 'Reset', { type: 'OnIdle' }, { status: 'Accepted' }],
  [
    'd-get',
    'GetVariables',
    { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
    {
      getVariableResult: [
        {
          attributeStatus: 'Accepted',
          attributeValue: '240',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    },
  ],
  [
    'd-set',
    'SetVariables',
    {
      setVariableData: [
        {
          attributeValue: '300',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    },
    {
      setVariableResult: [
        {
          attributeStatus: 'Accepted',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    },
  ],
];

const CASES = [
  // ocpp-rpc checks 2.0.1 traffic against its own bundled schemas in strict mode.
  { protocol: 'ocpp2.0.1', protoVer: '2.0.1', strict: true },
  // ocpp-rpc's 2.1 schema ids do not match its own lookup, so it runs non-strict and the test
  // checks every payload with the gateway's 2.1 schemas instead.
  { protocol: 'ocpp2.1', protoVer: '2.1', strict: false },
] as const;

for (const { protocol, protoVer, strict } of CASES) {
  describe(`ocpp-rpc ${protocol} charge point (strictMode ${String(strict)}) through the gateway`, () => {
    let fx: Fixture;
    let client: RPCClient;
    let v21: SchemaValidator | undefined;
    const cid = `RPC2-${protoVer}`;
    const checked: string[] = [];

    /** Non-strict 2.1 run: the gateway's own 2.1 schemas judge what ocpp-rpc did not. */
    function check(action: string, kind: 'request' | 'response', payload: unknown): void {
      if (v21 === undefined) return;
      assert.equal(v21.validate(action, kind, payload), undefined, `${action} ${kind}`);
      checked.push(`${action}|${kind}`);
    }

    before(async () => {
      if (!strict) {
        const policy = await SchemaPolicy.create({
          upstream: true,
          downstream: false,
          subprotocols: ['ocpp2.1'],
        });
        v21 = policy.upstream(V21);
      }
      fx = await setup('mosquitto', { OCPP_GW_SCHEMA_VALIDATION: 'all' });
      fx.backend.client.on('message', (topic, payload) => {
        if (topic !== `ocpp/cp/${cid}`) return;
        const call = JSON.parse(payload.toString()) as Call;
        void fx.backend.publish(`ocpp/cs/${cid}`, {
          MessageTypeId: 3,
          UniqueId: call.UniqueId,
          Payload: answerFor(call),
        });
      });
      const options: Partial<RPCClientOptions> = {
        endpoint: fx.wsBase.replace(/\/$/, ''),
        identity: cid,
        protocols: [protocol],
        strictMode: strict,
        reconnect: false,
        callTimeoutMs: 5000,
      };
      client = new RPCClient(options as RPCClientOptions);
      for (const [, action, , answer] of DOWNSTREAM) {
        client.handle(action, ({ params }: IHandlersOption) => {
          check(action, 'request', params);
          check(action, 'response', answer);
          return Promise.resolve(answer);
        });
      }
      await client.connect();
    });
    after(async () => {
      await client.close({ force: true });
      await fx.teardown();
    });

    it('negotiates its version and is described with it (presence, admin API, metrics)', async () => {
      assert.equal(client.protocol, protocol);
      const connected = await fx.backend.waitFor(`ocpp/events/${cid}/connected`);
      assert.equal((connected.json as { proto_ver: string }).proto_ver, protoVer);
      const metrics = await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_connections');
      assert.match(metrics, new RegExp(`version="${protoVer.replace(/\./g, '\\.')}"} 1`));
      assert.equal(fx.gateway.sessions.lookup(cid)?.protoVer, protoVer);
    });

    it('runs a charging session upstream with answers from the MQTT backend', async () => {
      for (const [action, payload] of UPSTREAM) {
        check(action, 'request', payload);
        const answer = (await client.call(action, payload)) as Record<string, unknown>;
        check(action, 'response', answer);
        if (action === 'BootNotification') assert.equal(answer.status, 'Accepted');
        if (action === 'Authorize') assert.deepEqual(answer, { idTokenInfo: { status: 'Accepted' } });
      }
      const calls = fx.backend.on(`ocpp/cp/${cid}`);
      assert.deepEqual(
        calls.map((m) => (m.json as Call).Action),
        UPSTREAM.map(([action]) => action),
      );
      for (const m of calls) assert.equal(m.userProperties?.['ocpp-version'], protoVer);
      const events = calls.filter((m) => (m.json as Call).Action === 'TransactionEvent');
      assert.deepEqual(
        events.map((m) => (m.json as Call).Payload.eventType),
        ['Started', 'Updated', 'Ended'],
      );
      const session = fx.gateway.sessions.lookup(cid);
      assert.equal(session?.state, 'booted');
      // The interval of the accepted BootNotification reply (OCPP 2.0.1 Part 2 B01).
      assert.equal(session?.keepaliveS, 240);
    });

    it('executes the backend commands and returns each answer with its Action', async () => {
      for (const [uniqueId, action, payload] of DOWNSTREAM) {
        await fx.backend.publish(`ocpp/cs/${cid}`, {
          MessageTypeId: 2,
          UniqueId: uniqueId,
          Action: action,
          Payload: payload,
        });
      }
      for (const [uniqueId, action, , answer] of DOWNSTREAM) {
        const reply = await fx.backend.waitFor(
          `ocpp/cp/${cid}/Reply`,
          (j: Reply) => j.UniqueId === uniqueId,
          5000,
        );
        assert.deepEqual(reply.json, {
          MessageTypeId: 3,
          UniqueId: uniqueId,
          Payload: answer,
          Action: action,
        });
        assert.equal(reply.userProperties?.['ocpp-version'], protoVer);
      }
      if (!strict) assert.ok(checked.length >= UPSTREAM.length * 2 + DOWNSTREAM.length * 2);
    });

    it('answers a backend command that breaks its schema with a 2.x code naming the property', async () => {
      await fx.backend.publish(`ocpp/cs/${cid}`, {
        MessageTypeId: 2,
        UniqueId: 'd-bad',
        Action: 'Reset',
        Payload: { type: 'Sometime' },
      });
      const reply = await fx.backend.waitFor(
        `ocpp/cp/${cid}/Reply`,
        (j: Reply) => j.UniqueId === 'd-bad',
        5000,
      );
      const json = reply.json as {
        ErrorCode: string;
        ErrorDescription: string;
        ErrorDetails: { reason: string };
      };
      assert.equal(json.ErrorCode, 'PropertyConstraintViolation');
      assert.match(json.ErrorDescription, /\/type must be one of/);
      assert.equal(json.ErrorDetails.reason, 'schema_violation');
    });
  });
}
