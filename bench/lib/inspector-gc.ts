import { WebSocket } from 'ws';
import { withTimeout } from '../../test/harness/time.js';

/**
 * Forces a full, compacting garbage collection in a process started with `--inspect`, through
 * the DevTools protocol (`HeapProfiler.collectGarbage`). RSS read afterwards shows what live
 * objects cost, without the garbage a burst of handshakes left behind.
 */
export async function collectGarbage(inspectorUrl: string): Promise<void> {
  const socket = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('open', () =>
          socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })),
        );
        socket.on('message', (data) => {
          const reply = JSON.parse((data as Buffer).toString('utf8')) as {
            id?: number;
            error?: { message: string };
          };
          if (reply.id !== 1) return;
          if (reply.error === undefined) resolve();
          else reject(new Error(`HeapProfiler.collectGarbage: ${reply.error.message}`));
        });
      }),
      30_000,
      'HeapProfiler.collectGarbage',
    );
  } finally {
    socket.close();
  }
}
