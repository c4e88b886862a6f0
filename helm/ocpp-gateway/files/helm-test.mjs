// `helm test` script: a station connects to the gateway Service, sends BootNotification; a
// backend stand-in on the broker answers it (Accepted), then sends a downstream CALL
// (GetConfiguration) that the station answers; the backend checks the Reply topic.
// Runs on the gateway image (Node 22, `mqtt` and its `ws` dependency under /app/node_modules)
// and, in the repository's tests, on the developer's Node against local processes.
// Exit 0: passed; 1: failed (reason on stderr).
import { createRequire } from 'node:module';

const env = process.env;
const require = createRequire(`${env.APP_DIR ?? '/app'}/package.json`);
const mqtt = require('mqtt');
const WebSocket = require('ws');

const gatewayUrl = env.GATEWAY_URL; // ws://<service>:33033/ocpp
const mqttUrl = env.MQTT_URL;
const prefix = env.TOPIC_PREFIX ?? 'ocpp/';
const cid = `helm-test-${process.pid}-${Date.now() % 100000}`;
const deadline = setTimeout(() => fail('no answer within 30 s'), 30_000);
let passed = false;

function fail(reason) {
  if (passed) return; // closing the connections after the check may report resets
  console.error(`helm test FAILED: ${reason}`);
  process.exit(1);
}

const backend = mqtt.connect(mqttUrl, {
  clientId: `${cid}-backend`,
  username: env.MQTT_USERNAME || undefined,
  password: env.MQTT_PASSWORD || undefined,
  protocolVersion: 5,
  connectTimeout: 10_000,
  reconnectPeriod: 0,
});
backend.on('error', (err) => fail(`broker: ${err.message}`));

await new Promise((resolve) => backend.on('connect', resolve));
await backend.subscribeAsync([`${prefix}cp/${cid}`, `${prefix}cp/${cid}/Reply`], { qos: 1 });

const station = new WebSocket(`${gatewayUrl}/${cid}`, ['ocpp1.6']);
station.on('error', (err) => fail(`gateway: ${err.message}`));
station.on('unexpected-response', (_req, res) => fail(`gateway answered the upgrade with ${res.statusCode}`));

backend.on('message', (topic, payload) => {
  const msg = JSON.parse(payload.toString());
  if (topic === `${prefix}cp/${cid}` && msg.Action === 'BootNotification') {
    backend.publish(
      `${prefix}cs/${cid}`,
      JSON.stringify({
        MessageTypeId: 3,
        UniqueId: msg.UniqueId,
        Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 },
      }),
      { qos: 1 },
    );
  } else if (topic === `${prefix}cp/${cid}/Reply`) {
    if (msg.MessageTypeId !== 3 || msg.UniqueId !== 'helm-test-1') fail(`unexpected Reply ${payload}`);
    passed = true;
    console.log(`helm test passed: ${cid} booted through the backend and answered a command`);
    clearTimeout(deadline);
    station.close(1000);
    backend.end(false, () => process.exit(0));
  }
});

station.on('open', () => {
  station.send(JSON.stringify([2, 'boot-1', 'BootNotification', { chargePointVendor: 'helm', chargePointModel: 'test' }]));
});
station.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  if (frame[0] === 3 && frame[1] === 'boot-1') {
    if (frame[2].status !== 'Accepted') fail(`BootNotification answered ${JSON.stringify(frame[2])}`);
    backend.publish(
      `${prefix}cs/${cid}`,
      JSON.stringify({ MessageTypeId: 2, UniqueId: 'helm-test-1', Action: 'GetConfiguration', Payload: {} }),
      { qos: 1 },
    );
  } else if (frame[0] === 2 && frame[2] === 'GetConfiguration') {
    station.send(JSON.stringify([3, frame[1], { configurationKey: [] }]));
  } else {
    fail(`unexpected frame ${JSON.stringify(frame)}`);
  }
});
