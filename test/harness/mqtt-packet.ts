import { createRequire } from 'node:module';

/** A packet as mqtt-packet reads it: the fields the tests look at. */
export interface ParsedPacket {
  readonly cmd: string;
  readonly messageId?: number;
  readonly reasonCode?: number;
}

/**
 * The mqtt-packet copy that mqtt.js itself uses (a dependency of mqtt, not of this project): the
 * reference the gateway's own packets must match, and the encoder of raw clients in tests.
 */
export const mqttPacket = createRequire(createRequire(import.meta.url).resolve('mqtt'))('mqtt-packet') as {
  generate(packet: object, opts: { protocolVersion: number }): Buffer;
  parser(opts: { protocolVersion: number }): {
    on(event: 'packet', fn: (p: ParsedPacket) => void): void;
    parse(bytes: Buffer): number;
  };
};
