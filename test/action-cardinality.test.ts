import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KNOWN_ACTIONS } from '../src/ocpp/versions/index.js';
import type { ChargePoint } from './harness/cp-client.js';
import { setup, type Fixture } from './harness/fixture.js';

const COUNT = 1000;

/** Letters and digits, so the parser and the downstream check accept it as an Action. */
function randomAction(): string {
  return `X${randomBytes(8).toString('hex')}`;
}

function answerCalls(cp: ChargePoint): void {
  cp.ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    if (frame[0] === 2) cp.send([3, frame[1], {}]);
  });
}

/** The distinct values of the `action` label across every series of /metrics. */
function actionLabels(metrics: string): Set<string> {
  const values = new Set<string>();
  for (const match of metrics.matchAll(/[{,]action="([^"]*)"/g)) values.add(match[1] ?? '');
  return values;
}

describe('metric action labels stay bounded whatever actions are sent (schema checking off)', () => {
  let fx: Fixture;
  before(async () => {
    // 500 upstream CALLs in one burst from one socket: above the per-connection CALL limit,
    // which is not what this test is about.
    fx = await setup('mosquitto', {
      OCPP_GW_CALL_BURST: '100000',
      OCPP_GW_CALLS_PER_S: '100000',
      // 500 CALLs sent at once: past the per-connection share of the MQTT backlog (default 250).
      OCPP_GW_MAX_PENDING_PUBLISHES_PER_CONNECTION: '100000',
    });
  });
  after(() => fx.teardown());

  it(`${COUNT} random actions, half downstream CALLs the station answers, half upstream CALLs`, async () => {
    const cp = await fx.connect('card-1');
    answerCalls(cp);
    const half = COUNT / 2;
    // Downstream: in batches below the queue limit, each batch answered before the next.
    for (let start = 0; start < half; start += 50) {
      const ids = Array.from({ length: 50 }, (_, i) => `d${start + i}`);
      for (const id of ids) {
        await fx.backend.publish('ocpp/cs/card-1', {
          MessageTypeId: 2,
          UniqueId: id,
          Action: randomAction(),
          Payload: {},
        });
      }
      for (const id of ids) {
        await fx.backend.waitFor(
          'ocpp/cp/card-1/Reply',
          (j: { UniqueId?: string }) => j.UniqueId === id,
          10_000,
        );
      }
    }
    // Upstream: the CP's own CALLs, bridged to MQTT.
    for (let i = 0; i < half; i++) cp.send([2, `u${i}`, randomAction(), {}]);
    await fx.backend.waitFor(
      (t) => t.startsWith('ocpp/cp/card-1'),
      (j: { UniqueId?: string }) => j.UniqueId === `u${half - 1}`,
      10_000,
    );

    const metrics = await (await fetch(`${fx.httpBase}/metrics`)).text();
    const labels = actionLabels(metrics);
    const unknown = [...labels].filter(
      (label) => label !== 'other' && label !== '' && !KNOWN_ACTIONS.has(label),
    );
    assert.deepEqual(unknown, [], 'every action label is a known action, "other" or empty');
    assert.ok(labels.size <= KNOWN_ACTIONS.size + 2, `${labels.size} action label values`);
    // The downstream CALLs were answered and timed: their series exist, under the bounded label.
    assert.match(metrics, /^ocpp_gateway_downstream_call_duration_seconds_count\{action="other"\} 500$/m);
  });
});
