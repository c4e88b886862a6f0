import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EmbeddedBroker } from '../src/bridge/embedded-broker.js';
import { createLogger } from '../src/observability/logger.js';
import type { Gateway } from '../src/gateway/gateway.js';
import { ChargePoint } from './harness/cp-client.js';
import { startGateway } from './harness/gateway.js';
import { MqttObserver } from './harness/mqtt-observer.js';

/** aedes as an *external* broker: it speaks MQTT 3.1.1 only and has no shared subscriptions. */
describe('MQTT 3.1.1 broker', () => {
  let broker: EmbeddedBroker;
  let gw: { gateway: Gateway; ports: { wsPort: number }; stop: () => Promise<void> };
  let backend: MqttObserver;
  before(async () => {
    broker = await EmbeddedBroker.start(
      '127.0.0.1',
      0,
      createLogger({ logLevel: 'silent', nodeId: 'broker' }),
    );
    const url = `mqtt://127.0.0.1:${broker.port}`;
    gw = await startGateway({ OCPP_GW_MQTT_URL: url, OCPP_GW_MQTT_SHARED_SUBSCRIPTION: 'false' });
    backend = await MqttObserver.connect(url, ['ocpp/#'], { protocolVersion: 4 });
  });
  after(async () => {
    await backend.end();
    await gw.stop();
    await broker.close();
  });

  it('falls back from MQTT 5 to 3.1.1 and bridges both ways', async () => {
    const cp = await ChargePoint.connect(`ws://127.0.0.1:${gw.ports.wsPort}/ocpp/v4`);
    cp.send([2, 'h1', 'Heartbeat', {}]);
    const up = await backend.waitFor('ocpp/cp/v4');
    assert.equal(up.userProperties, undefined, 'no user properties in 3.1.1');
    await backend.publish('ocpp/cs/v4', {
      MessageTypeId: 3,
      UniqueId: 'h1',
      Payload: { currentTime: 'now' },
    });
    assert.deepEqual(await cp.next(), [3, 'h1', { currentTime: 'now' }]);
    cp.ws.terminate();
  });
});
