/**
 * Benchmark peer: what a team would write without a gateway product, with the popular `ocpp-rpc`
 * library: an `RPCServer` (defaults: no strict mode, its own pings and call queue) bridged to
 * MQTT with mqtt.js in the gateway's EMQX topic layout. Upstream CALLs are published on
 * `ocpp/cp/{cid}` and the handler's promise resolves when the backend's CALLRESULT for that
 * UniqueId arrives on `ocpp/cs/{cid}`; a backend CALL on `ocpp/cs/{cid}` is sent with
 * `client.call()` and its outcome published on `ocpp/cp/{cid}/Reply`.
 *
 * Environment: PEER_PORT (0 = any), PEER_HOST (127.0.0.1), PEER_MQTT_URL (required), PEER_QOS.
 * Prints `{"msg":"peer ready","wsPort":N}` once it listens.
 */
import { connectAsync } from 'mqtt';
import { RPCServer, createRPCError } from 'ocpp-rpc';
import type { AddressInfo } from 'node:net';

const UPSTREAM = 'ocpp/cp/';
const DOWNSTREAM = 'ocpp/cs/';
const mqttUrl = process.env.PEER_MQTT_URL ?? '';
const qos = Number(process.env.PEER_QOS ?? '2') as 0 | 1 | 2;
if (mqttUrl === '' || ![0, 1, 2].includes(qos)) {
  process.stderr.write('PEER_MQTT_URL is required, PEER_QOS must be 0, 1 or 2\n');
  process.exit(2);
}

interface Waiter {
  resolve: (payload: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

type ServerClient = {
  identity: string;
  call(method: string, params?: unknown): Promise<unknown>;
  handle(
    handler: (call: {
      method: string;
      params: unknown;
      messageId: string;
    }) => Promise<Record<string, unknown>>,
  ): void;
  once(event: 'close', listener: () => void): void;
};

const mqtt = await connectAsync(mqttUrl, {
  protocolVersion: 5,
  clientId: `ocpp-rpc-bridge-${process.pid}`,
  clean: true,
});
const clients = new Map<string, ServerClient>();
/** Upstream CALLs waiting for the backend's answer, by `cid UniqueId`. */
const waiting = new Map<string, Waiter>();

function publishReply(cid: string, body: Record<string, unknown>): void {
  mqtt.publish(`${UPSTREAM}${cid}/Reply`, JSON.stringify(body), { qos });
}

mqtt.on('message', (topic, payload) => {
  const cid = topic.slice(DOWNSTREAM.length);
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  } catch {
    return;
  }
  const uniqueId = String(message.UniqueId);
  if (message.MessageTypeId === 3 || message.MessageTypeId === 4) {
    const waiter = waiting.get(`${cid} ${uniqueId}`);
    if (waiter === undefined) return;
    waiting.delete(`${cid} ${uniqueId}`);
    if (message.MessageTypeId === 3) waiter.resolve((message.Payload ?? {}) as Record<string, unknown>);
    else
      waiter.reject(
        createRPCError(
          String(message.ErrorCode),
          typeof message.ErrorDescription === 'string' ? message.ErrorDescription : '',
        ) as Error,
      );
    return;
  }
  const client = clients.get(cid);
  if (message.MessageTypeId !== 2) return;
  if (client === undefined) {
    publishReply(cid, {
      MessageTypeId: 4,
      UniqueId: uniqueId,
      ErrorCode: 'GenericError',
      ErrorDetails: { reason: 'offline' },
    });
    return;
  }
  client.call(String(message.Action), message.Payload).then(
    (result) => publishReply(cid, { MessageTypeId: 3, UniqueId: uniqueId, Payload: result }),
    (err: Error) =>
      publishReply(cid, {
        MessageTypeId: 4,
        UniqueId: uniqueId,
        ErrorCode: 'GenericError',
        ErrorDescription: err.message,
      }),
  );
});
await mqtt.subscribeAsync(`${DOWNSTREAM}+`, { qos: 1 });

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: false });
server.on('client', (client: ServerClient) => {
  const cid = client.identity;
  clients.set(cid, client);
  client.once('close', () => {
    if (clients.get(cid) === client) clients.delete(cid);
  });
  client.handle(({ method, params, messageId }) => {
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      waiting.set(`${cid} ${messageId}`, { resolve, reject });
    });
    const body = { MessageTypeId: 2, UniqueId: messageId, Action: method, Payload: params };
    mqtt.publish(`${UPSTREAM}${cid}`, JSON.stringify(body), { qos });
    return answer;
  });
});
const http = await server.listen(Number(process.env.PEER_PORT ?? '0'), process.env.PEER_HOST ?? '127.0.0.1');
process.stdout.write(
  `${JSON.stringify({ msg: 'peer ready', wsPort: (http.address() as AddressInfo).port })}\n`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close({ force: true }).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
