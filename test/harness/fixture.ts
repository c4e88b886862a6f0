import { ChargePoint } from './cp-client.js';
import { startGateway, type GatewayEnv } from './gateway.js';
import { Mosquitto } from './mosquitto.js';
import { MqttObserver } from './mqtt-observer.js';
import type { Gateway } from '../../src/gateway/gateway.js';

export type BrokerMode = 'embedded' | 'mosquitto';
export const BROKER_MODES: readonly BrokerMode[] = ['embedded', 'mosquitto'];

/** A gateway, its broker (embedded aedes or a real mosquitto) and a backend observer. */
export interface Fixture {
  readonly gateway: Gateway;
  readonly mode: BrokerMode;
  readonly mqttUrl: string;
  readonly wsBase: string;
  readonly httpBase: string;
  readonly backend: MqttObserver;
  connect(cid: string, protocols?: string[]): Promise<ChargePoint>;
  teardown(): Promise<void>;
}

export async function setup(
  mode: BrokerMode,
  env: GatewayEnv = {},
  filters: string[] = ['ocpp/#'],
): Promise<Fixture> {
  const mosquitto = mode === 'mosquitto' ? await Mosquitto.start() : undefined;
  const { gateway, ports, stop } = await startGateway(
    mosquitto === undefined ? env : { OCPP_GW_MQTT_URL: mosquitto.url, ...env },
  );
  const mqttUrl = mosquitto?.url ?? `mqtt://127.0.0.1:${String(ports.mqttPort)}`;
  // aedes speaks 3.1.1 only; mosquitto gets MQTT 5 so user properties are visible.
  const backend = await MqttObserver.connect(mqttUrl, filters, {
    protocolVersion: mode === 'embedded' ? 4 : 5,
  });
  const wsBase = `ws://127.0.0.1:${ports.wsPort}${gateway.config.path}/`;
  const clients: ChargePoint[] = [];
  return {
    gateway,
    mode,
    mqttUrl,
    wsBase,
    httpBase: `http://127.0.0.1:${ports.httpPort}`,
    backend,
    async connect(cid, protocols) {
      const cp = await ChargePoint.connect(wsBase + encodeURIComponent(cid), protocols);
      clients.push(cp);
      return cp;
    },
    async teardown() {
      for (const cp of clients) cp.ws.terminate();
      await backend.end();
      await stop();
      await mosquitto?.stop();
    },
  };
}

export const BOOT = (id: string): unknown[] => [
  2,
  id,
  'BootNotification',
  { chargePointVendor: 'vendor1', chargePointModel: 'model1' },
];
export const ACK = (id: string, interval = 300, status = 'Accepted'): Record<string, unknown> => ({
  MessageTypeId: 3,
  UniqueId: id,
  Payload: { currentTime: '2023-06-21T14:20:39+00:00', interval, status },
});
