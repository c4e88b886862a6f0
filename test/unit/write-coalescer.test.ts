import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { coalesceWrites } from '../../src/io/write-coalescer.js';
import { TUNING } from '../../src/config/tuning.js';

/** A loopback server that collects what each connection sent, and a client whose writes are counted. */
describe('coalesceWrites (one write per event-loop turn)', () => {
  let server: Server;
  let port = 0;
  const received: Array<Promise<Buffer>> = [];

  before(async () => {
    server = createServer((peer) => {
      const chunks: Buffer[] = [];
      peer.on('data', (chunk: Buffer) => chunks.push(chunk));
      received.push(once(peer, 'end').then(() => Buffer.concat(chunks)));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  async function client(): Promise<{ socket: Socket; writes: Buffer[]; sent: () => Promise<Buffer> }> {
    // Taken before connecting: the server may see the connection before the client sees 'connect'.
    const index = received.length;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const writes: Buffer[] = [];
    const original = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    // Counts what reaches the socket itself, beneath the coalescer.
    socket.write = (chunk: unknown, ...rest: unknown[]) => {
      writes.push(Buffer.from(chunk as Buffer));
      return original(chunk, ...rest);
    };
    coalesceWrites(socket);
    return {
      socket,
      writes,
      sent: async () => {
        while (received.length <= index) await delay(5);
        return received[index]!;
      },
    };
  }

  it('hands everything written in one turn to the socket as one write, in order', async () => {
    const { socket, writes, sent } = await client();
    assert.equal(socket.write(Buffer.from([1, 2])), true);
    socket.write('héllo', 'utf8');
    socket.write(new Uint8Array([3]));
    assert.equal(writes.length, 0, 'nothing written before the turn ends');
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0], Buffer.concat([Buffer.from([1, 2]), Buffer.from('héllo'), Buffer.from([3])]));
    socket.write(Buffer.from('next turn'));
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 2);
    socket.end();
    assert.equal((await sent()).toString('latin1').endsWith('next turn'), true);
  });

  it('grows past its first buffer and keeps every byte', async () => {
    const { socket, writes, sent } = await client();
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i, i));
    for (const part of parts) socket.write(part);
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 1);
    socket.end();
    assert.deepEqual(await sent(), Buffer.concat(parts));
  });

  it('writes a chunk with a callback through, after what was pending', async () => {
    const { socket, writes, sent } = await client();
    socket.write(Buffer.from('a'));
    let called = false;
    socket.write(Buffer.from('b'), () => {
      called = true;
    });
    assert.equal(writes.length, 2, 'pending bytes first, then the chunk with its callback');
    assert.deepEqual(
      writes.map((w) => w.toString()),
      ['a', 'b'],
    );
    socket.write('c');
    socket.end('d');
    assert.equal(writes.length, 3, 'end() flushes what is pending first');
    assert.equal((await sent()).toString(), 'abcd');
    assert.equal(called, true);
  });

  it('drops what is pending when the socket is destroyed before the turn ends', async () => {
    const { socket, writes } = await client();
    socket.write(Buffer.from('lost'));
    socket.destroy();
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 0);
  });

  it('installs once per socket', async () => {
    const { socket, writes } = await client();
    coalesceWrites(socket);
    socket.write(Buffer.from('x'));
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 1);
    socket.destroy();
  });

  it('hands over what a long turn wrote once it is TUNING.turnBatchMaxMs old, and keeps order', async () => {
    const { socket, writes, sent } = await client();
    const busy = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    // One turn that lasts (a flood of socket events in one poll phase): no immediate runs meanwhile.
    socket.write(Buffer.from('a'));
    socket.write(Buffer.from('b'));
    busy(TUNING.turnBatchMaxMs + 2);
    socket.write(Buffer.from('c'));
    assert.equal(writes.length, 1, 'the batch left at the first write past the bound');
    assert.deepEqual(writes[0], Buffer.from('ab'));
    socket.write(Buffer.from('d'));
    assert.equal(writes.length, 1, 'a new batch starts with c');
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 2);
    socket.end();
    assert.equal((await sent()).toString(), 'abcd');
  });
});
