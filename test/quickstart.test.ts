import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ChargePoint } from './harness/cp-client.js';
import { MAIN_JS } from './harness/gateway.js';
import { sleep } from './harness/time.js';

/**
 * The README quick start, as written: `npm start` with no configuration (embedded broker on
 * 1883, WebSocket on 33033, HTTP on 9464), and `mosquitto_sub -h 127.0.0.1 -t 'ocpp/#'` sees a
 * BootNotification. Uses the default ports on purpose, so it needs them free.
 */
describe('README quick start', () => {
  it(
    'a fresh gateway with no Redis and no broker bridges a BootNotification to mosquitto_sub',
    { timeout: 120_000 },
    async () => {
      // 33033 lies in Linux's ephemeral range: a client socket of an earlier test may hold it in
      // TIME-WAIT for up to 60 s. Wait for the default ports rather than fail on a neighbour.
      for (const port of [33033, 1883, 9464])
        assert.ok(await waitBindable(port, 70_000), `port ${port} stays busy`);
      const gw = spawn(process.execPath, [MAIN_JS], {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let gwOut = '';
      gw.stdout.on('data', (d: Buffer) => (gwOut += d.toString()));
      gw.stderr.on('data', (d: Buffer) => (gwOut += d.toString()));
      let sub: ReturnType<typeof spawn> | undefined;
      try {
        for (let i = 0; i < 100 && !gwOut.includes('"gateway ready"'); i++) await sleep(100);
        assert.match(gwOut, /"gateway ready"/, gwOut);
        let seen = '';
        sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-t', 'ocpp/#', '-v'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        sub.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
        sub.stderr?.on('data', (d: Buffer) => (seen += d.toString()));
        await sleep(500);
        const cp = await ChargePoint.connect('ws://127.0.0.1:33033/ocpp/CP001');
        cp.send([
          2,
          '3335862321',
          'BootNotification',
          { chargePointVendor: 'vendor1', chargePointModel: 'model1' },
        ]);
        for (let i = 0; i < 50 && !seen.includes('BootNotification'); i++) await sleep(100);
        assert.match(
          seen,
          /^ocpp\/cp\/CP001 \{"MessageTypeId":2,"UniqueId":"3335862321","Action":"BootNotification","Payload":\{"chargePointVendor":"vendor1","chargePointModel":"model1"\}\}$/m,
        );
        assert.match(seen, /^ocpp\/events\/CP001\/connected /m);
        const health = await fetch('http://127.0.0.1:9464/healthz');
        assert.equal(health.status, 200);
        cp.ws.terminate();
      } finally {
        sub?.kill('SIGKILL');
        if (gw.exitCode === null && gw.signalCode === null) {
          const exited = new Promise((resolve) => gw.once('exit', resolve));
          gw.kill('SIGTERM');
          await exited;
        }
      }
    },
  );
});

async function waitBindable(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return true;
    await sleep(1000);
  }
  return false;
}
