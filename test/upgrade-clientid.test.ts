import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tryUpgrade } from './harness/cp-client.js';
import { setup, type Fixture } from './harness/fixture.js';
import { rawUpgrade } from './harness/raw-upgrade.js';
import { sleep } from './harness/time.js';

/**
 * Issue 8 item 1: ids mosquitto refuses in a topic (a C1 control, Unicode noncharacters) were
 * accepted; the presence publish then made mosquitto drop the gateway's MQTT connection, and
 * the resent publish dropped it again after every reconnect, for every station on the node.
 */
describe('charge-point ids an MQTT broker may refuse (real mosquitto)', () => {
  let fx: Fixture;
  let wsPort: number;
  before(async () => {
    fx = await setup('mosquitto');
    wsPort = Number(new URL(fx.wsBase).port);
  });
  after(() => fx.teardown());

  const hostile = [
    ['/ocpp/c1%C2%85b', 'U+0085 (C1 control)'],
    ['/ocpp/%EF%BF%BF', 'U+FFFF (noncharacter)'],
    ['/ocpp/%EF%B7%90', 'U+FDD0 (noncharacter)'],
    ['/ocpp/x%F4%8F%BF%BE', 'U+10FFFE (noncharacter, plane 16)'],
    ['/ocpp/%C2%9F', 'U+009F (last C1 control)'],
  ] as const;

  for (const [path, what] of hostile) {
    it(`answers ${path} (${what}) with 400 unsupported_clientid`, async () => {
      const result = await tryUpgrade(fx.wsBase.replace(/\/ocpp\/$/, '') + path);
      assert.deepEqual([result.status, result.body], [400, 'unsupported_clientid']);
    });
  }

  it('answers the same id sent as raw UTF-8 bytes in the request target with 400', async () => {
    const target = Buffer.concat([Buffer.from('/ocpp/c1'), Buffer.from([0xc2, 0x85]), Buffer.from('b')]);
    const answer = await rawUpgrade(wsPort, target);
    assert.deepEqual([answer.status, answer.body], [400, 'unsupported_clientid']);
  });

  it('publishes nothing for them, and the MQTT link stays connected', async () => {
    // Give a publish, a broker disconnect and a reconnect loop time to show.
    for (let i = 0; i < 20; i++) {
      const ready = await fetch(`${fx.httpBase}/readyz`);
      assert.equal(ready.status, 200, `readiness ${i * 100} ms after the hostile upgrades`);
      const metric = await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_mqtt_connected');
      assert.match(metric, /ocpp_gateway_mqtt_connected 1\b/);
      await sleep(100);
    }
    assert.deepEqual(
      fx.backend.seen.map((m) => m.topic),
      [],
      'no presence event (or anything else) for a refused id',
    );
    const cp = await fx.connect('after-hostile');
    await fx.backend.waitFor('ocpp/events/after-hostile/connected');
    cp.ws.terminate();
  });

  it('counts them as rejected unsupported_clientid', async () => {
    const text = await fx.gateway.metrics.registry.getSingleMetricAsString('ocpp_gateway_upgrades_total');
    assert.match(text, /outcome="rejected",reason="unsupported_clientid"} 6\b/);
  });
});
