import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PublishRefusedError, type PublishRefusal } from '../src/errors.js';
import { ChargePoint } from './harness/cp-client.js';
import { startGateway } from './harness/gateway.js';
import { probeLink, type LinkProbe } from './harness/link-probe.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { sleep } from './harness/time.js';

/** Topic names a broker may close the connection on (MQTT 5 §1.5.4, §4.7; mosquitto does). */
const REFUSED_TOPICS = [
  'ocpp/events/c1\u0085b/connected', // C1 control character
  'ocpp/events/c1\uFFFFb/connected', // non-character
  'ocpp/events/c1\uFDD0b/connected', // non-character
  'ocpp/events/c1\u{10FFFF}b/connected', // non-character in plane 16
  'ocpp/cp/c1/Heart#', // wildcard in a topic name
  'ocpp/cp/c1/Heart+beat',
  'ocpp/cp/c1\u0000', // NUL
  'ocpp/cp/c1\uD800', // unpaired surrogate
];

/** The link's log line for each lost connection. */
const OFFLINE = 'mqtt offline; publishes are held until reconnect';

const TIMED_OUT = new Error('no outcome in time');
const within = <T>(promise: Promise<T>, ms: number): Promise<T | Error> =>
  Promise.race([promise, sleep(ms).then(() => TIMED_OUT)]);

function assertRefused(outcome: unknown, reason: PublishRefusal, what: string): void {
  assert.ok(outcome instanceof PublishRefusedError, `${what}: expected a refusal, got ${String(outcome)}`);
  assert.equal(outcome.code, 'GW_ERR_PUBLISH_REFUSED');
  assert.equal(outcome.reason, reason, what);
}

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function broker(extraConfig: string[] = []): Promise<Mosquitto> {
  const b = await Mosquitto.start(extraConfig);
  started.push(b);
  return b;
}

async function probe(url: string, protocolVersion: 4 | 5): Promise<LinkProbe> {
  const p = await probeLink(url, { protocolVersion });
  started.push({ stop: () => p.link.end(1000) });
  return p;
}

async function backendOn(url: string): Promise<MqttObserver> {
  const backend = await MqttObserver.connect(url, ['ocpp/#']);
  started.push({ stop: () => backend.end() });
  return backend;
}

describe('a publish the broker would refuse as malformed is refused before it is sent (real mosquitto)', () => {
  for (const version of [5, 4] as const) {
    it(`MQTT ${version}: each fails once, the link never disconnects, other publishes go through`, async () => {
      const mosquitto = await broker();
      const backend = await backendOn(mosquitto.url);
      const link = await probe(mosquitto.url, version);
      for (const topic of REFUSED_TOPICS) {
        for (const qos of [0, 1, 2] as const) {
          const outcome = await within(link.publish(topic, '{}', qos), 3000);
          assertRefused(outcome, 'invalid_topic', `${JSON.stringify(topic)} at QoS ${qos}`);
        }
      }
      assert.equal(link.calls(), REFUSED_TOPICS.length * 3, 'each publish is answered exactly once');
      assert.equal(await link.publish('ocpp/cp/ok', '{"after":true}', 1), undefined);
      await backend.waitFor('ocpp/cp/ok');
      await sleep(1500);
      assert.equal(link.lines(OFFLINE).length, 0, 'the link never went down');
      assert.equal(link.link.connected, true);
      assert.equal(
        await link.counter('ocpp_gateway_mqtt_publish_rejected_total', { reason: 'invalid_topic' }),
        REFUSED_TOPICS.length * 3,
      );
      const reported = link.lines('mqtt publish refused');
      assert.equal(reported.length, REFUSED_TOPICS.length * 3);
      // pino's err serializer: { type, message, stack }, with the catalogue code.
      assert.ok(
        reported.every((l) => {
          const err = l.err as { message?: unknown; code?: unknown } | undefined;
          return (
            typeof l.topic === 'string' &&
            typeof err?.message === 'string' &&
            err.code === 'GW_ERR_PUBLISH_REFUSED'
          );
        }),
      );
    });
  }

  it("MQTT 5: a publish over the broker's Maximum Packet Size (CONNACK) is refused before it is sent", async () => {
    const mosquitto = await broker(['max_packet_size 2048']);
    const backend = await backendOn(mosquitto.url);
    const link = await probe(mosquitto.url, 5);
    const outcome = await within(link.publish('ocpp/cp/big', 'x'.repeat(4096), 1), 3000);
    assertRefused(outcome, 'packet_too_large', 'a 4 KiB publish against max_packet_size 2048');
    assert.equal(await link.publish('ocpp/cp/fits', 'y'.repeat(1900), 1), undefined);
    await backend.waitFor('ocpp/cp/fits');
    await sleep(1000);
    assert.equal(link.lines(OFFLINE).length, 0, 'the link never went down');
    assert.equal(
      await link.counter('ocpp_gateway_mqtt_publish_rejected_total', { reason: 'packet_too_large' }),
      1,
    );
  });
});

describe('a publish the broker drops the connection on, which no pre-check foresaw (real mosquitto)', () => {
  it('MQTT 3.1.1 (no Maximum Packet Size in CONNACK): at most two drops, one failure, then the link stays up', async () => {
    const mosquitto = await broker(['max_packet_size 2048']);
    const backend = await backendOn(mosquitto.url);
    const link = await probe(mosquitto.url, 4);
    // One turn: the oversized publish leaves between two others, in one TCP write.
    const first = link.publish('ocpp/cp/first', '{"n":1}', 1);
    const poison = link.publish('ocpp/cp/big', 'x'.repeat(4096), 1);
    const behind = link.publish('ocpp/cp/behind', '{"n":2}', 1);
    assertRefused(await within(poison, 10_000), 'broker_disconnect', 'the oversized publish');
    assert.equal(await within(first, 5000), undefined, 'the publish before it is acknowledged');
    assert.equal(await within(behind, 5000), undefined, 'the publish behind it is acknowledged');
    await backend.waitFor('ocpp/cp/first');
    await backend.waitFor('ocpp/cp/behind');
    const drops = link.lines(OFFLINE).length;
    assert.ok(drops >= 1 && drops <= 2, `the link went down ${drops} times`);
    await sleep(3000);
    assert.equal(link.lines(OFFLINE).length, drops, 'no more drops once the publish is refused');
    assert.equal(link.link.connected, true);
    assert.equal(await link.publish('ocpp/cp/later', '{"n":3}', 1), undefined);
    await backend.waitFor('ocpp/cp/later');
    assert.equal(link.calls(), 4, 'each publish is answered exactly once');
    assert.equal(
      await link.counter('ocpp_gateway_mqtt_publish_rejected_total', { reason: 'broker_disconnect' }),
      1,
    );
    const reported = link.lines('mqtt publish refused');
    assert.equal(reported.length, 1);
    assert.equal(reported[0]?.topic, 'ocpp/cp/big');
  });
});

describe("a station's CALL that the broker cannot take", () => {
  for (const [version, reason] of [
    [5, 'packet_too_large'],
    [4, 'broker_disconnect'],
  ] as const) {
    it(`MQTT ${version}: CALLERROR InternalError once (${reason}), the node stays ready`, async () => {
      const mosquitto = await broker(['max_packet_size 4096']);
      const backend = await backendOn(mosquitto.url);
      const gw = await startGateway({
        OCPP_GW_MQTT_URL: mosquitto.url,
        OCPP_GW_MQTT_PROTOCOL_VERSION: String(version),
      });
      started.push({ stop: gw.stop });
      const http = `http://127.0.0.1:${gw.ports.httpPort}`;
      const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/big-cp`);
      started.push({ stop: () => Promise.resolve(cp.ws.terminate()) });
      cp.send([2, 'big', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(8000) }]);
      const answer = (await cp.next(() => true, 10_000)) as unknown[];
      assert.deepEqual(answer.slice(0, 3), [4, 'big', 'InternalError']);
      cp.send([2, 'hb', 'Heartbeat', {}]);
      await backend.waitFor('ocpp/cp/big-cp', (m: { UniqueId?: string }) => m.UniqueId === 'hb', 5000);
      await sleep(1500);
      assert.equal(cp.inbox.length, 0, `no second answer: ${JSON.stringify(cp.inbox)}`);
      assert.equal((await fetch(`${http}/readyz`)).status, 200);
      const metrics = await (await fetch(`${http}/metrics`)).text();
      assert.match(metrics, new RegExp(`ocpp_gateway_mqtt_publish_rejected_total\\{reason="${reason}"\\} 1`));
    });
  }
});
