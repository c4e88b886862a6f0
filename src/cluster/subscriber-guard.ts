import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../observability/logger.js';

interface StoppableSubscriber {
  getInstance(): EventEmitter | null;
  stop(): void;
}

const GUARDED = Symbol('ocpp-gw.subscriber-guard');

/**
 * ioredis (5.11) stops a Redis Cluster sharded subscriber (`ShardedSubscriber.stop`) by
 * disconnecting its connection and then removing every listener of it, `error` included. A reply
 * still buffered on that connection (an SUNSUBSCRIBE answered as the subscriber was replaced after
 * a failover) then makes its parser emit "Command queue state error" with nobody listening, and an
 * `error` event without a listener throws: the gateway process died. Three Redis-fault chaos runs
 * lost a node so, one of them the only routing node (bench/RESULTS.md, run K). The connection is
 * finished either way; a listener left on it after the stop keeps a late error from ending the
 * node. Installed once per process, before the first Cluster client is made (redis-link.ts).
 */
export function guardStoppedSubscribers(log: Logger): boolean {
  const require = createRequire(import.meta.url);
  let proto: (StoppableSubscriber & { [GUARDED]?: true }) | undefined;
  try {
    const mod = require('ioredis/built/cluster/ShardedSubscriber.js') as {
      default?: { prototype: StoppableSubscriber };
    };
    proto = mod.default?.prototype;
  } catch {
    return false; // another ioredis layout: nothing to guard here
  }
  if (proto === undefined || typeof proto.stop !== 'function') return false;
  if (proto[GUARDED] === true) return true;
  const stop: (this: StoppableSubscriber) => void = Reflect.get(proto, 'stop');
  proto.stop = function guardedStop(this: StoppableSubscriber): void {
    const instance = this.getInstance();
    stop.call(this);
    instance?.on('error', (error: Error) => log.debug({ err: error }, 'error on a stopped redis subscriber'));
  };
  proto[GUARDED] = true;
  return true;
}
