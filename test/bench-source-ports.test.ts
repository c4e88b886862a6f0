import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { connectAndBoot } from '../bench/lib/cp-swarm.js';
import { emptyBootCounts } from '../bench/lib/swarm-protocol.js';

const SOURCE = '127.0.0.10';
/** The first port bench/lib/source-ports.ts hands out in a fresh process. */
const FIRST_PORT = 10_000;

/** Holds SOURCE:FIRST_PORT with a listener; resolves undefined if something else holds it already. */
function occupy(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, SOURCE, () => resolve(server));
  });
}

test('load generator: stations bind the source ports it picks, a port in use is skipped without a failure', async () => {
  const seenPorts: number[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'ocpp1.6' });
  wss.on('connection', (socket, request) => {
    seenPorts.push(request.socket.remotePort ?? -1);
    socket.on('message', (data: Buffer) => {
      const [type, id] = JSON.parse(data.toString('utf8')) as [number, string];
      if (type === 2)
        socket.send(
          JSON.stringify([
            3,
            id,
            { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 },
          ]),
        );
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  // Taken by a listener (or by whatever already holds it): the bind fails with EADDRINUSE.
  const blocker = await occupy(FIRST_PORT);
  const opened: Array<{ terminate(): void }> = [];
  try {
    const counts = emptyBootCounts();
    const { cps } = await connectAndBoot(
      {
        baseUrls: [`ws://127.0.0.1:${port}/ocpp/`],
        idPrefix: 'sp-',
        count: 5,
        ratePerS: 1000,
        maxPending: 5,
        deadlineMs: 10_000,
        localAddress: SOURCE,
      },
      counts,
    );
    opened.push(...cps.map((cp) => cp.socket));
    assert.equal(counts.booted, 5);
    assert.equal(counts.connectErrors, 0, 'the port in use cost another port, not a station');
    assert.deepEqual(
      [...seenPorts].sort((a, b) => a - b),
      [FIRST_PORT + 1, FIRST_PORT + 2, FIRST_PORT + 3, FIRST_PORT + 4, FIRST_PORT + 5],
    );
  } finally {
    for (const socket of [...opened, ...wss.clients]) socket.terminate();
    blocker?.close();
    wss.close();
  }
});
