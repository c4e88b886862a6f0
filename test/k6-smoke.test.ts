import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { findK6, runK6, startK6Stack, thresholdResults, type K6Stack } from '../bench/lib/k6-stack.js';
import { stopAll } from '../bench/lib/processes.js';

// A k6 binary is not on any registry here; the tests run when one is on PATH (or in K6) and are
// reported as skipped, with the reason, when none is.
const k6 = findK6();
const skip = k6 === undefined ? 'not run: k6 not on PATH' : false;

describe('k6 scripts (bench/k6) against a real gateway, mosquitto and the bench backend', () => {
  const stacks: K6Stack[] = [];
  /** A fresh gateway, broker and backend per test, so one test's stations are not the next one's targets. */
  const stack = async (backendEnv: Record<string, string> = {}): Promise<K6Stack> => {
    const started = await startK6Stack(backendEnv);
    stacks.push(started);
    return started;
  };

  after(async () => {
    for (const s of stacks) await s.stop();
    await stopAll();
  });

  it(
    'connections.js: two steps of stations boot and heartbeat, every threshold holds',
    { skip },
    async () => {
      const { gatewayUrl } = await stack();
      const run = await runK6(k6!, 'connections.js', {
        GATEWAY_URL: gatewayUrl,
        STEPS: '3,6',
        RAMP_S: '1',
        HOLD_S: '3',
        HEARTBEAT_S: '1',
      });
      const results = thresholdResults(run);
      assert.equal(run.code, 0, run.output);
      // 5 thresholds per step: all of them evaluated, all passed.
      assert.equal(Object.keys(results).length, 10, JSON.stringify(results));
      assert.ok(Object.values(results).every(Boolean), JSON.stringify(results));
    },
  );

  it('commands.js: stations answer the backend commands, none lost or error-replied', { skip }, async () => {
    const { gatewayUrl, statsUrl } = await stack({
      BENCH_BACKEND_COMMAND_RATE: '50',
      BENCH_BACKEND_COMMAND_TIMEOUT_MS: '5000',
    });
    const run = await runK6(k6!, 'commands.js', {
      GATEWAY_URL: gatewayUrl,
      STATIONS: '5',
      DURATION_S: '5',
      BACKEND_STATS_URL: statsUrl,
    });
    const results = thresholdResults(run);
    assert.equal(run.code, 0, run.output);
    assert.equal(results['backend_commands_lost: count==0'], true, JSON.stringify(results));
    assert.equal(results['backend_commands_sent: count>0'], true, JSON.stringify(results));
    assert.ok(Object.values(results).every(Boolean), JSON.stringify(results));
  });

  it('a threshold that cannot hold fails the run (the smoke test can fail)', { skip }, async () => {
    // Nothing listens on port 9: every connect fails, so `ocpp_connect_failed rate==0` is crossed.
    const run = await runK6(k6!, 'storm.js', {
      GATEWAY_URL: 'ws://127.0.0.1:9/ocpp/',
      STATIONS: '2',
      STORM_AT_S: '1',
      HOLD_AFTER_S: '1',
    });
    assert.notEqual(run.code, 0);
    assert.equal(thresholdResults(run)['ocpp_connect_failed{phase:initial}: rate==0'], false, run.output);
  });
});
