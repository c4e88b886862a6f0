import type { JsonObject } from '../../ocpp/frame.js';
import { realClock, type Clock, type TimerHandle } from '../../io/clock.js';

/** A downstream CALL on its way to a charge point. */
export interface PendingCall {
  readonly uniqueId: string;
  readonly action: string;
  readonly payload: JsonObject;
  /** The clock's now() when written to the socket; set when it becomes outstanding. */
  sentAt: number;
  timer: TimerHandle | undefined;
  /** Runs once the command's outcome (the CP's answer or an error reply) is published. */
  readonly ack: (() => void) | undefined;
}

/**
 * Why a CALL was not written: the socket would not take it (`unwritable`), it cannot be encoded
 * as a frame (`malformed`), or its frame is over the frame size limit (`too_large`).
 */
export type WriteFailure = 'unwritable' | 'malformed' | 'too_large';

export interface CallQueueHooks {
  /** Writes the CALL to the socket; undefined when written, else why not. */
  write(call: PendingCall): WriteFailure | undefined;
  /** A CALL was not written; it has left the queue and its outcome is the caller's to publish. */
  notWritten(call: PendingCall, failure: WriteFailure): void;
  /** The CP did not answer within the timeout. */
  timedOut(call: PendingCall): void;
  /** Queue depth changed by `delta` (for the node-wide gauge). */
  depthChanged(delta: number): void;
}

/** `not_written`: {@link CallQueueHooks.notWritten} has been told why. */
export type EnqueueOutcome = 'sent' | 'queued' | 'full' | 'not_written';

/**
 * Per-charge-point serialisation of downstream CALLs (OCPP-J 1.6 §4.1.1: one CALL outstanding
 * at a time). The rest wait in a bounded FIFO; the outstanding CALL ends with the CP's answer
 * (same UniqueId) or the timeout, and then the next one is written. Created lazily: most
 * sessions never receive a downstream CALL, and idle sessions should cost almost nothing.
 */
export class CallQueue {
  private outstandingCall: PendingCall | undefined;
  private readonly waiting: PendingCall[] = [];

  constructor(
    private readonly maxLength: number,
    private readonly timeoutMs: number,
    private readonly hooks: CallQueueHooks,
    readonly clock: Clock = realClock,
  ) {}

  get outstanding(): PendingCall | undefined {
    return this.outstandingCall;
  }

  get length(): number {
    return this.waiting.length;
  }

  enqueue(
    uniqueId: string,
    action: string,
    payload: JsonObject,
    ack: (() => void) | undefined,
  ): EnqueueOutcome {
    const call: PendingCall = { uniqueId, action, payload, sentAt: 0, timer: undefined, ack };
    if (this.outstandingCall === undefined) return this.start(call) ? 'sent' : 'not_written';
    if (this.waiting.length >= this.maxLength) return 'full';
    this.waiting.push(call);
    this.hooks.depthChanged(1);
    return 'queued';
  }

  /** The CP answered `uniqueId`; returns the CALL it answers, or undefined if it is not ours. */
  settle(uniqueId: string): PendingCall | undefined {
    const call = this.outstandingCall;
    if (call === undefined || call.uniqueId !== uniqueId) return undefined;
    this.finish(call);
    return call;
  }

  /** Ends everything (session closed); the caller answers each with an error reply. */
  clear(): { outstanding: PendingCall | undefined; waiting: PendingCall[] } {
    const outstanding = this.outstandingCall;
    if (outstanding !== undefined) this.clock.clearTimeout(outstanding.timer);
    this.outstandingCall = undefined;
    const waiting = this.waiting.splice(0);
    if (waiting.length > 0) this.hooks.depthChanged(-waiting.length);
    return { outstanding, waiting };
  }

  /**
   * Writes `call` and makes it the outstanding one; a CALL that cannot be written is handed to
   * `notWritten` instead, so it is answered and the next one can go. It becomes outstanding only
   * once written: a write that closes the socket (backpressure) clears the queue meanwhile.
   */
  private start(call: PendingCall): boolean {
    call.sentAt = this.clock.now();
    let failure: WriteFailure | undefined;
    try {
      failure = this.hooks.write(call);
    } catch {
      // Nothing that writes a frame should throw; if it does, this command is the one that
      // cannot be written, and the queue must not stay blocked behind it.
      failure = 'malformed';
    }
    if (failure !== undefined) {
      this.hooks.notWritten(call, failure);
      return false;
    }
    this.outstandingCall = call;
    call.timer = this.clock.setTimeout(() => this.expire(call), this.timeoutMs);
    return true;
  }

  private expire(call: PendingCall): void {
    if (this.outstandingCall !== call) return;
    this.finish(call);
    this.hooks.timedOut(call);
  }

  private finish(call: PendingCall): void {
    this.clock.clearTimeout(call.timer);
    this.outstandingCall = undefined;
    this.next();
  }

  private next(): void {
    let call = this.waiting.shift();
    while (call !== undefined) {
      this.hooks.depthChanged(-1);
      if (this.start(call)) return;
      call = this.waiting.shift();
    }
  }
}
