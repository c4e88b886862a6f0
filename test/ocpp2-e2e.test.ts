import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RPCClient, type IHandlersOption } from 'ocpp-rpc';
import { setup, type Fixture } from './harness/fixture.js';
import { answerFor, DOWNSTREAM, UPSTREAM, type Call, type Reply } from './harness/ocpp2-session.js';
import { SchemaPolicy } from '../src/ocpp/schema-policy.js';
import { V21 } from '../src/ocpp/versions/v21.js';
import type { SchemaValidator } from '../src/ocpp/schema-validator.js';

type RPCClientOptions = ConstructorParameters<typeof RPCClient>[0];
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
