import { cutIdentity, NetCut } from '../../test/harness/net-cut.js';
import { sleep } from '../../test/harness/time.js';
import type { ChaosCommand } from './protocol.js';
import type { ChaosStack } from './stack.js';

export const FAULTS = [
  'kill9',
  'drain',
  'redis-failover',
  'redis-empty',
  'broker-restart',
  'partition-redis',
  'partition-broker',
  'partition-both',
  'slow',
  'hop',
] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultContext {
  readonly stack: ChaosStack;
  /** Sends a command to every station process. */
  readonly stations: (command: ChaosCommand) => void;
  readonly callTimeoutMs: number;
  readonly cutMs: number;
  /** One line about what happened (timings), kept in the run's summary. */
  readonly note: (text: string) => void;
}

let victim = 0;

/** Node i down (kill -9 or SIGTERM drain), `downMs` later up again and its share of stations back. */
async function bounce(ctx: FaultContext, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<void> {
  const i = victim++ % ctx.stack.count;
  const started = Date.now();
  await ctx.stack.stopNode(i, signal);
  ctx.stations({ cmd: 'urls', urls: ctx.stack.urls() });
  const stoppedMs = Date.now() - started;
  await sleep(downMs);
  await ctx.stack.startNode(i);
  ctx.stations({ cmd: 'urls', urls: ctx.stack.urls() });
  ctx.stations({ cmd: 'rebalance', node: i, of: ctx.stack.count });
  ctx.note(`${signal} node-${i}: exited after ${stoppedMs} ms, restarted after ${Date.now() - started} ms`);
}

async function partition(ctx: FaultContext, target: 'redis' | 'broker' | 'both'): Promise<void> {
  const { stack } = ctx;
  const ports = [
    ...(target === 'broker' ? [] : stack.redis.nodes.map((n) => n.port)),
    ...(target === 'redis' ? [] : [stack.broker.port]),
  ];
  const cut = await NetCut.cut(cutIdentity().uid, ports);
  try {
    await sleep(ctx.cutMs);
  } finally {
    await cut.heal();
  }
  ctx.note(`node-${stack.cutNode} cut from ${target} for ${ctx.cutMs} ms (iptables drop, sockets left open)`);
}

/** Runs one fault to its end (the system healed or restarted); the caller leaves time to recover. */
export async function runFault(fault: Fault, ctx: FaultContext): Promise<void> {
  const started = Date.now();
  switch (fault) {
    case 'kill9':
      return bounce(ctx, 'SIGKILL', 2000);
    case 'drain':
      return bounce(ctx, 'SIGTERM', 1000);
    case 'redis-failover': {
      // A master of a slot every run uses: kill -9, its replica is promoted after
      // cluster-node-timeout (3000 ms in the harness); then the old master rejoins as a replica.
      const port = await ctx.stack.redis.killMasterOf(`chaos-${victim++}`, 30_000);
      const failedOver = Date.now() - started;
      await ctx.stack.redis.revive(port, 90_000);
      return ctx.note(
        `Redis master ${port} killed: cluster ok again (replica promoted) after ${failedOver} ms; rejoined as a replica after ${Date.now() - started} ms`,
      );
    }
    case 'redis-empty':
      await ctx.stack.redis.restartAllEmpty();
      return ctx.note(
        `all 6 Redis nodes killed and restarted empty: cluster ok after ${Date.now() - started} ms`,
      );
    case 'broker-restart':
      await ctx.stack.broker.restartGraceful(1000);
      return ctx.note(`mosquitto SIGTERM, down 1 s, back after ${Date.now() - started} ms`);
    case 'partition-redis':
      return partition(ctx, 'redis');
    case 'partition-broker':
      return partition(ctx, 'broker');
    case 'partition-both':
      return partition(ctx, 'both');
    case 'slow':
      // Every 10th station stops reading for 3 s (commands wait, none time out); every 50th
      // for longer than the call timeout (its command is answered `timeout`).
      ctx.stations({ cmd: 'slow', every: 10, offset: 3, ms: 3000 });
      ctx.stations({ cmd: 'slow', every: 50, offset: 7, ms: ctx.callTimeoutMs + 2000 });
      await sleep(ctx.callTimeoutMs + 2000);
      return ctx.note('every 10th station stalled its reader for 3 s, every 50th for the call timeout + 2 s');
    case 'hop':
      // Every 5th station reads its next command and, before answering it, reconnects to another
      // node (newest wins there) and answers on the new socket.
      ctx.stations({ cmd: 'hop', every: 5, offset: victim++ % 5 });
      await sleep(3000);
      return ctx.note(
        'every 5th station reconnected to another node between reading a command and answering it',
      );
  }
}
