import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface FakeBroker {
  readonly url: string;
  /** Every chunk the client wrote, in order. */
  readonly bytes: Buffer[];
  /** The client's connection, to write packets to it. */
  peer(): Socket;
  close(): void;
}

/** A broker that answers CONNECT, records every byte, and acknowledges only when told to. */
export async function fakeBroker(): Promise<FakeBroker> {
  let socket: Socket | undefined;
  const bytes: Buffer[] = [];
  const server = createServer((s) => {
    socket = s;
    s.on('data', (chunk: Buffer) => {
      bytes.push(chunk);
      // CONNECT first: CONNACK (MQTT 5: flags 0, reason 0, no properties).
      if (bytes.length === 1) s.write(Buffer.from([0x20, 3, 0, 0, 0]));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const peer = (): Socket => {
    assert.ok(socket);
    return socket;
  };
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = (): void => {
    socket?.destroy();
    server.close();
  };
  return { url, bytes, peer, close };
}
