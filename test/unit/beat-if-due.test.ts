import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeDirectory } from '../../src/cluster/node-directory.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { SelfLiveness } from '../../src/cluster/self-liveness.js';
import type { ClusterConfig } from '../../src/config/index.js';
import type { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createLogger } from '../../src/observability/logger.js';

/**
 * NodeDirectory.beatIfDue: the heartbeat carried by socket events when its timer cannot fire
 * (a flood of events in one poll phase). Simulated here by keeping the thread busy, so no timer
 * runs, and calling beatIfDue as the open and close hooks do; Redis is a stub counting the
 * liveness writes.
 */
const HEARTBEAT_MS = 100;

function directory(): { dir: NodeDirectory; beats: () => number; answer: () => void } {
  let beats = 0;
  let pending: (() => void)[] = [];
  const cmd = {
    set: () => {
      beats += 1;
      return new Promise((resolve) => pending.push(() => resolve('v')));
    },
    hset: () => Promise.resolve(1),
    hgetall: () => Promise.resolve({}),
    exists: () => Promise.resolve(1),
    del: () => Promise.resolve(1),
    hdel: () => Promise.resolve(1),
  };
  const redis = {
    cmd,
    beat: Object.assign(cmd, { on: () => undefined }),
    restarted: () => Promise.resolve(false),
    setAnswering: () => undefined,
    onReconnect: () => undefined,
  } as unknown as RedisLink;
  const log = createLogger({ logLevel: 'silent', nodeId: 'n1' });
  const config = { heartbeatMs: HEARTBEAT_MS, nodeTtlMs: 10_000, prefix: 'p' } as unknown as ClusterConfig;
  const metrics = { nodesAlive: { set: () => undefined } } as unknown as ClusterMetrics;
  const dir = new NodeDirectory({
    redis,
    config,
    nodeId: 'n1',
    mqttClientId: 'c1',
    events: { lost: () => undefined, dead: () => undefined },
    metrics,
    log,
    liveness: new SelfLiveness(10_000, HEARTBEAT_MS, log),
  });
  const answer = (): void => {
    const now = pending;
    pending = [];
    for (const resolve of now) resolve();
  };
  return { dir, beats: () => beats, answer };
}

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
/** Lets promise continuations run, never a timer. */
const microtasks = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

test('beats from the hooks only when due and when no beat is in flight', async () => {
  const { dir, beats, answer } = directory();
  const started = dir.start();
  await microtasks();
  answer();
  await started;
  assert.equal(beats(), 1);
  dir.beatIfDue();
  await microtasks();
  assert.equal(beats(), 1, 'not due yet');
  // The timer cannot fire while the thread is busy: the hook beats instead.
  busy(HEARTBEAT_MS + 10);
  dir.beatIfDue();
  await microtasks();
  assert.equal(beats(), 2, 'due: a beat from the hook');
  busy(HEARTBEAT_MS + 10);
  dir.beatIfDue();
  await microtasks();
  assert.equal(beats(), 2, 'the beat before is still unanswered');
  answer();
  await microtasks();
  dir.beatIfDue();
  await microtasks();
  assert.equal(beats(), 3, 'answered and due again');
  answer();
  await microtasks();
  const stopped = dir.stop();
  dir.beatIfDue();
  await microtasks();
  assert.equal(beats(), 3, 'stopped: no more beats');
  await stopped;
});
