import { connect as tcpConnect, type Socket } from 'node:net';
import { mqttPacket } from './mqtt-packet.js';
import { sleep } from './time.js';

/**
 * What a gateway killed with QoS 2 publishes half done leaves in its broker session: `count`
 * PUBLISHes the broker answered with PUBREC and that will never get their PUBREL, since the
 * process that knew them is gone (MQTT 5 §4.3.3). Raw packets: mqtt.js would send the PUBRELs.
 * Resolves with the payloads of those the broker holds (PUBREC reason 0; mosquitto refuses some
 * past its quota with 0x97). Packet ids from `firstId` on.
 */
export async function leaveHalfDoneQos2(
  port: number,
  clientId: string,
  count: number,
  firstId = 40_000,
): Promise<string[]> {
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  // The CONNACK, then one PUBREC per publish: the broker holds those it answered with reason 0.
  const answers = new Map<number, number>();
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  parser.on('packet', (p) => {
    if (p.cmd === 'pubrec' && p.messageId !== undefined) answers.set(p.messageId, p.reasonCode ?? 0);
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const write = (packet: object): boolean =>
    socket.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
  // Clean Start 0 and a Session Expiry Interval of 300 s: the session outlives this connection.
  write({
    cmd: 'connect',
    protocolVersion: 5,
    clientId,
    clean: false,
    keepalive: 60,
    properties: { sessionExpiryInterval: 300 },
  });
  for (let i = 0; i < count; i++) {
    const payload = `stale ${i}`;
    write({
      cmd: 'publish',
      qos: 2,
      messageId: firstId + i,
      topic: 'ocpp/cp/dead/Reply',
      payload,
      dup: false,
      retain: false,
    });
  }
  for (let i = 0; i < 100 && answers.size < count; i++) await sleep(20);
  socket.destroy();
  await sleep(100);
  return [...answers].filter(([, reason]) => reason < 0x80).map(([id]) => `stale ${id - firstId}`);
}
