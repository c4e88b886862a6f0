import { TUNING } from '../config/tuning.js';
import type { Logger } from '../observability/logger.js';
import type { RedisLink } from './redis-link.js';
import { withScripts, type ScriptedRedis } from './redis-scripts.js';
import { redisKeys } from './keys.js';
import { LocalWrites } from './local-writes.js';

/** {@link SentMarks.take} could not reach Redis: no mark was taken. */
export const MARKS_UNAVAILABLE = Symbol('marks unavailable');

/**
 * The fence of one forwarded command (docs/architecture.md §5.13): what its sender writes on the
 * command's mark before answering `node_lost`, and what the owner's take of that very `deliver`
 * refuses to pass. Per sender and `ref`, so a later command reusing the UniqueId is not fenced.
 */
export function forwardFence(sender: string, ref: number): string {
  return `lost|${sender}|${ref}`;
}

/** A mark value that is a sender's fence, not a writer. */
export function isFence(holder: string): boolean {
  return holder.startsWith('lost|');
}

/**
 * Written-marks of downstream CALLs (docs/architecture.md §5.7): `{prefix}:sent:{cid}:{uniqueId}` names the node
 * run that wrote the CALL to the charge point. A redelivered command (MQTT DUP) that finds the
 * mark of another run is not written again: that run died before its outcome was known.
 */
export class SentMarks {
  private readonly redis: ScriptedRedis;
  /** Failures since the last warning: one line per interval, not one per command or shard flap. */
  private failures = 0;
  private warnedAt = 0;
  private unprotected: () => void = () => undefined;
  /** Why the last take failed (a deadline, or a refused connection). */
  lastError: unknown;
  /** Marks whose outcome is out, waiting to be shortened together (see {@link finished}). */
  private finishedKeys: string[] = [];
  private finishTimer: NodeJS.Timeout | undefined;
  /** CALLs this run wrote, marked or not: their redeliveries answer as marked ones do. */
  private readonly written: LocalWrites;
  /**
   * Marks this run took, or may have taken (a take that failed), for CALLs it has not written (see
   * {@link abandon}).
   */
  private readonly abandoned: LocalWrites;

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
    this.written = new LocalWrites(doneTtlMs, TUNING.localWritesMax);
    this.abandoned = new LocalWrites(ttlMs, TUNING.localWritesMax);
  }

  /**
   * The command's outcome is published: a redelivery can now only come from a node that died
   * before its PUBACK left, which survivors notice within a node TTL and adopt at once. Keeping
   * the mark for the whole MQTT session expiry would hold one key per command ever sent
   * (10k commands/s x 300 s = 3 M keys); this keeps one per command in flight, plus a short tail.
   *
   * Shortened in batches (TUNING.finishedMarkBatchMs): one write and one read for all of them
   * instead of a command and its reply per outcome, which at a moderate rate each cost a syscall
   * pair on the owner (bench/RESULTS.md, "Hot path"). A mark not yet shortened only lives longer:
   * that protects more, never less, so a node that stops with some still queued loses nothing.
   */
  finished(cid: string, uniqueId: string): void {
    const key = this.key(cid, uniqueId);
    this.finishedKeys.push(key);
    // Remembered here as well: Redis may lose the mark (restarted empty, failed over) (local-writes.ts).
    this.written.add(key);
    this.finishTimer ??= setTimeout(() => this.shortenFinished(), TUNING.finishedMarkBatchMs).unref();
  }

  private shortenFinished(): void {
    this.finishTimer = undefined;
    const keys = this.finishedKeys;
    this.finishedKeys = [];
    // Issued in one turn: the command socket is corked for it (io/turn-batch.ts).
    for (const key of keys) this.redis.pexpire(key, this.doneTtlMs).catch(() => undefined);
  }

  private key(cid: string, uniqueId: string): string {
    return redisKeys.sent(this.prefix, cid, uniqueId);
  }

  /**
   * Takes the mark before the CALL is written. Resolves to the writer that held it before, when
   * a redelivery finds one; undefined means "write it". A Redis failure also means "write it":
   * local delivery must not depend on Redis (docs/architecture.md §5.7), at the cost of redelivery protection.
   */
  async take(
    cid: string,
    uniqueId: string,
    redelivered: boolean,
    /** A forwarded command's {@link forwardFence}: found on the mark, it is returned, nothing taken. */
    fence = '',
  ): Promise<string | undefined | typeof MARKS_UNAVAILABLE> {
    const key = this.key(cid, uniqueId);
    // Written by this run, whatever Redis says now: as if this run's mark were found (local-writes.ts).
    if (redelivered && this.written.has(key)) return this.writer;
    try {
      const flag = redelivered ? '1' : '0';
      const holder = await this.redis.ocppMark(key, this.writer, this.ttlMs, flag, fence);
      // Our own mark on a CALL we never wrote: its copy is written now, not taken for a duplicate.
      if (holder === this.writer && redelivered && this.abandoned.take(key)) return undefined;
      return holder ?? undefined;
    } catch (error) {
      // Failed by a deadline, the take may still have run in Redis, its reply lost: until this run
      // writes the command, a later take that finds this run's mark must not count it as written.
      // A copy taken so for a duplicate was acknowledged and never answered (a chaos run lost one:
      // parked at the failed take, left to the broker with the link, its copy came back here, §5.13).
      this.abandoned.add(key);
      this.lastError = error;
      this.failures += 1;
      // During a Redis Cluster failover one shard fails while the others answer: a success in
      // between does not start a new outage, so the warning is paced by time, not by state.
      const now = Date.now();
      if (now - this.warnedAt >= TUNING.routingWarnIntervalMs) {
        this.log.warn(
          { err: error, failures: this.failures },
          'written-marks unavailable; delivering without redelivery protection',
        );
        this.warnedAt = now;
        this.failures = 0;
      }
      return MARKS_UNAVAILABLE;
    }
  }

  /**
   * Reads the mark without taking it (a redelivered command nobody owns, unowned-redelivery.ts):
   * the writer or fence it names, undefined when there is none. Rejects when Redis fails.
   */
  async holder(cid: string, uniqueId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(cid, uniqueId))) ?? undefined;
  }

  /**
   * The sender of a forwarded command judged its owner lost (docs/architecture.md §5.13): fences
   * the command's mark unless the owner took it. `fenced`: the owner never writes it, `node_lost`
   * is the truth; `held`: the owner took the mark (wrote it, or is about to), and may still report
   * its outcome; `unavailable`: Redis did not answer, nothing is known.
   */
  async fence(cid: string, uniqueId: string, fence: string): Promise<'fenced' | 'held' | 'unavailable'> {
    try {
      const holder = await this.redis.ocppFence(this.key(cid, uniqueId), fence, this.ttlMs);
      return holder === null ? 'fenced' : 'held';
    } catch {
      return 'unavailable';
    }
  }

  /**
   * The CALL whose mark this run just took is left to the broker unwritten (owner-delivery.ts):
   * the broker's copy that comes back here finds this run's mark, and must still be written.
   */
  abandon(cid: string, uniqueId: string): void {
    this.abandoned.add(this.key(cid, uniqueId));
  }

  /** Called for each command written without a mark (counted: docs/architecture.md §5.13). */
  onUnprotected(handler: () => void): void {
    this.unprotected = handler;
  }

  /** The command goes out without a mark (Redis unreachable, this node not lapsed). */
  writingUnprotected(cid: string, uniqueId: string): void {
    this.written.add(this.key(cid, uniqueId));
    this.unprotected();
  }
}
