import type { Logger } from '../observability/logger.js';
import type { RedisLink } from './redis-link.js';
import { withScripts, type ScriptedRedis } from './redis-scripts.js';
import { redisKeys } from './keys.js';

/**
 * Written-marks of downstream CALLs (docs/architecture.md §5.7): `{prefix}:sent:{cid}:{uniqueId}` names the node
 * run that wrote the CALL to the charge point. A redelivered command (MQTT DUP) that finds the
 * mark of another run is not written again: that run died before its outcome was known.
 */
export class SentMarks {
  private readonly redis: ScriptedRedis;
  private failing = false;

  constructor(
    link: RedisLink,
    private readonly prefix: string,
    /** `{nodeId}|{run}`: a node restarted under the same id is a different writer. */
    readonly writer: string,
    private readonly ttlMs: number,
    /** What is left of a mark once the command's outcome is out (see {@link finished}). */
    private readonly doneTtlMs: number,
    private readonly log: Logger,
  ) {
    this.redis = withScripts(link.cmd);
  }

  /**
   * The command's outcome is published: a redelivery can now only come from a node that died
   * before its PUBACK left, which survivors notice within a node TTL and adopt at once. Keeping
   * the mark for the whole MQTT session expiry would hold one key per command ever sent
   * (10k commands/s x 300 s = 3 M keys); this keeps one per command in flight, plus a short tail.
   */
  finished(cid: string, uniqueId: string): void {
    if (this.failing) return;
    this.redis.pexpire(this.key(cid, uniqueId), this.doneTtlMs).catch(() => undefined);
  }

  private key(cid: string, uniqueId: string): string {
    return redisKeys.sent(this.prefix, cid, uniqueId);
  }

  /**
   * Takes the mark before the CALL is written. Resolves to the writer that held it before, when
   * a redelivery finds one; undefined means "write it". A Redis failure also means "write it":
   * local delivery must not depend on Redis (docs/architecture.md §5.7), at the cost of redelivery protection.
   */
  async take(cid: string, uniqueId: string, redelivered: boolean): Promise<string | undefined> {
    try {
      const key = this.key(cid, uniqueId);
      const holder = await this.redis.ocppMark(key, this.writer, this.ttlMs, redelivered ? '1' : '0');
      this.failing = false;
      return holder ?? undefined;
    } catch (error) {
      if (!this.failing) {
        this.log.warn({ err: error }, 'written-marks unavailable; delivering without redelivery protection');
      }
      this.failing = true;
      return undefined;
    }
  }
}
