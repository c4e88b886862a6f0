import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { SentMarks } from '../src/cluster/sent-marks.js';
import type { RedisLink } from '../src/cluster/redis-link.js';
import { TUNING } from '../src/config/tuning.js';
import { RedisServer } from './harness/redis.js';
import { sleep } from './harness/time.js';

const TTL_MS = 300_000;
const DONE_TTL_MS = 30_000;

/** Written-marks of finished commands are shortened in batches, against a real redis-server. */
describe('SentMarks.finished', () => {
  let server: RedisServer;
  let redis: Redis;
  let marks: SentMarks;

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    const link = { cmd: redis } as unknown as RedisLink;
    marks = new SentMarks(link, 'fin', 'node-a|run1', TTL_MS, DONE_TTL_MS, pino({ level: 'silent' }));
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('shortens every finished mark to the done TTL within one batch interval, all in one go', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `u${i}`);
    for (const id of ids) assert.equal(await marks.take('CP1', id, false), undefined);
    const key = (id: string): string => `fin:sent:{CP1}:${id}`;
    assert.ok((await redis.pttl(key('u0'))) > DONE_TTL_MS, 'a taken mark lives the long TTL');
    for (const id of ids) marks.finished('CP1', id);
    await sleep(TUNING.finishedMarkBatchMs * 4);
    const ttls = await Promise.all(ids.map((id) => redis.pttl(key(id))));
    assert.ok(
      ttls.every((ttl) => ttl > 0 && ttl <= DONE_TTL_MS),
      `all shortened: ${ttls.filter((t) => t > DONE_TTL_MS).length} still long`,
    );
    // The mark itself is kept: a redelivery within the tail still finds its writer.
    assert.equal(await marks.take('CP1', 'u7', true), 'node-a|run1');
  });

  it('leaves a mark untouched that was taken but never finished', async () => {
    assert.equal(await marks.take('CP2', 'open', false), undefined);
    await sleep(TUNING.finishedMarkBatchMs * 4);
    assert.ok((await redis.pttl('fin:sent:{CP2}:open')) > DONE_TTL_MS);
  });
});
