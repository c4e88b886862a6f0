import { connect } from 'node:net';
import { ManagedProcess, childEnv } from './processes.js';
import { sleep } from '../../test/harness/time.js';

/** A TCP echo server in its own Node process: prints `{"port":N}` once it listens. */
const ECHO_SERVER = `
const server = require('node:net').createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (data) => socket.write(data));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`;

/**
 * The machine's floor for one request and its answer between two processes over loopback TCP
 * (TCP_NODELAY, a few bytes each way), timed like the bench's round trips: one at a time, `gapMs`
 * apart. On a VM the wake-up of an idle process dominates it, so it grows with the gap.
 */
export async function tcpFloorMs(samples: number, gapMs: number): Promise<number[]> {
  const echo = new ManagedProcess('tcp-echo', process.execPath, ['-e', ECHO_SERVER], childEnv({}));
  try {
    const ready = await echo.waitForJson((line) => typeof line.port === 'number', 10_000, 'echo port');
    const socket = connect(ready.port as number, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const answered = new Promise((resolve) => socket.once('data', resolve));
      const startedAt = performance.now();
      socket.write('ping');
      await answered;
      times.push(performance.now() - startedAt);
      await sleep(gapMs);
    }
    socket.destroy();
    return times;
  } finally {
    await echo.stop();
  }
}
