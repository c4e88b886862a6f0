import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { guardStoppedSubscribers } from '../../src/cluster/subscriber-guard.js';
import { createLogger } from '../../src/observability/logger.js';

interface Subscriber {
  getInstance(): EventEmitter | null;
  stop(): void;
}
type SubscriberClass = new (emitter: EventEmitter, options: { host: string; port: number }) => Subscriber;

/** ioredis's own class, as the Cluster client makes it (lazy: no connection is opened). */
function subscriber(): Subscriber {
  const require = createRequire(import.meta.url);
  const mod = require('ioredis/built/cluster/ShardedSubscriber.js') as { default: SubscriberClass };
  return new mod.default(new EventEmitter(), { host: '127.0.0.1', port: 1 });
}

describe('a stopped ioredis sharded subscriber (cluster/subscriber-guard.ts)', () => {
  it('without the guard, a late error on its connection throws: the process would end', () => {
    const sub = subscriber();
    const instance = sub.getInstance();
    sub.stop();
    assert.throws(() => instance?.emit('error', new Error('Command queue state error')), /Command queue/);
  });

  it('with the guard, a late error on its connection is logged, not thrown', () => {
    assert.equal(guardStoppedSubscribers(createLogger({ logLevel: 'silent', nodeId: 'g' })), true);
    const sub = subscriber();
    const instance = sub.getInstance();
    sub.stop();
    assert.doesNotThrow(() => instance?.emit('error', new Error('Command queue state error')));
    // Installed once: a second call changes nothing.
    assert.equal(guardStoppedSubscribers(createLogger({ logLevel: 'silent', nodeId: 'g' })), true);
  });
});
