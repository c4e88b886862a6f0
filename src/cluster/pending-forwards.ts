import type { Clock } from '../io/clock.js';
import type { Owner } from './registry.js';
import type { Forwarded } from './router-types.js';

/** A charge point's next message waiting for its forwards to an earlier owner to settle. */
interface Fence {
  readonly owner: Owner | undefined;
  /** Also waits for forwards that arrived before this rank and may be routed again, whatever their owner. */
  readonly before: number | undefined;
  readonly open: () => void;
}

/**
 * The routing node's forwards still waiting for their owner's `reply` envelope
 * (docs/architecture.md §5.5), by reference number: each has a deadline, and the gauge
 * `ocpp_gateway_route_pending` reads the count when scraped. Indexed by charge point too, for the
 * owner-change fence (§5.14): a message bound for another owner than one still pending waits.
 */
export class PendingForwards {
  private readonly entries = new Map<number, Forwarded>();
  /** Per charge point, the references of its pending forwards (one or a few). */
  private readonly byCid = new Map<string, number[]>();
  private readonly fences = new Map<string, Fence[]>();
  /** Per charge point, error replies to its forwards not out yet (see {@link takeAnswered}). */
  private readonly answering = new Map<string, number>();
  private nextRef = 0;

  constructor(
    private readonly clock: Clock,
    metrics: { followPending(read: () => number): void } | undefined,
  ) {
    metrics?.followPending(() => this.entries.size);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Files the forward under a new reference; `expired(ref)` runs at its deadline unless taken. */
  add(entry: Forwarded, deadlineMs: number, expired: (ref: number) => void): number {
    this.nextRef += 1;
    const ref = this.nextRef;
    entry.timer = this.clock.setTimeout(() => expired(ref), deadlineMs);
    this.entries.set(ref, entry);
    const refs = this.byCid.get(entry.cid);
    if (refs === undefined) this.byCid.set(entry.cid, [ref]);
    else refs.push(ref);
    return ref;
  }

  get(ref: number): Forwarded | undefined {
    return this.entries.get(ref);
  }

  /** Removes the forward (its outcome came, or it ends here) and stops its deadline. */
  take(ref: number): Forwarded | undefined {
    const entry = this.entries.get(ref);
    if (entry === undefined) return undefined;
    this.entries.delete(ref);
    this.clock.clearTimeout(entry.timer);
    const refs = this.byCid.get(entry.cid);
    if (refs !== undefined) {
      refs.splice(refs.indexOf(ref), 1);
      if (refs.length === 0) this.byCid.delete(entry.cid);
    }
    this.reopen(entry.cid);
    return entry;
  }

  /**
   * Takes the forward, which `answer` answers here (an error reply; its promise is returned), and
   * keeps its charge point's fences shut until that reply is out and the command acknowledged.
   * Opened at once, the next command was written while this one's MQTT message was still
   * unacknowledged; when the node then died, the broker handed this one out again and it was
   * written after its successor (a chaos run: a second `stale` answered `offline`, the routing
   * node killed 6 s later, 2 reordered, docs/architecture.md §5.14).
   */
  takeAnswered(
    ref: number,
    answer: (entry: Forwarded) => Promise<void> | undefined,
  ): Promise<void> | undefined {
    const entry = this.entries.get(ref);
    if (entry === undefined) return undefined;
    const { cid } = entry;
    this.answering.set(cid, (this.answering.get(cid) ?? 0) + 1);
    this.take(ref);
    const out = (): void => {
      const left = (this.answering.get(cid) ?? 1) - 1;
      if (left === 0) this.answering.delete(cid);
      else this.answering.set(cid, left);
      this.reopen(cid);
    };
    const answered = answer(entry);
    if (answered === undefined) out();
    else void answered.then(out, out);
    return answered;
  }

  /**
   * Settles once no forward of `cid` is pending to another owner than `owner` (node and session
   * epoch; `undefined`: any forward at all, the charge point is local now), nor, given `before`,
   * one that arrived before that rank and was not answered `stale` yet (a `stale` answer would
   * route it again; a second one is answered `offline` instead); `undefined` when none is
   * now. Every pending forward ends (outcome, deadline, `node_lost`), so every fence opens.
   */
  fence(cid: string, owner: Owner | undefined, before?: number): Promise<void> | undefined {
    if (!this.blocks(cid, owner, before)) return undefined;
    return new Promise<void>((open) => {
      const waiting = this.fences.get(cid);
      if (waiting === undefined) this.fences.set(cid, [{ owner, before, open }]);
      else waiting.push({ owner, before, open });
    });
  }

  /** The forwards addressed to one owner node, as a copy (the caller may take them). */
  heldBy(nodeId: string): Array<[number, Forwarded]> {
    return [...this.entries].filter(([, entry]) => entry.owner.nodeId === nodeId);
  }

  refs(): number[] {
    return [...this.entries.keys()];
  }

  private blocks(cid: string, owner: Owner | undefined, before: number | undefined): boolean {
    if (this.answering.has(cid)) return true;
    const refs = this.byCid.get(cid);
    if (refs === undefined) return false;
    if (owner === undefined) return true;
    return refs.some((ref) => {
      const entry = this.entries.get(ref);
      if (entry === undefined) return false;
      if (before !== undefined && entry.seq < before && entry.refused !== true) return true;
      const other = entry.owner;
      return other.nodeId !== owner.nodeId || other.epoch !== owner.epoch;
    });
  }

  private reopen(cid: string): void {
    const waiting = this.fences.get(cid);
    if (waiting === undefined) return;
    const still: Fence[] = [];
    for (const fence of waiting) {
      if (this.blocks(cid, fence.owner, fence.before)) still.push(fence);
      else fence.open();
    }
    if (still.length === 0) this.fences.delete(cid);
    else this.fences.set(cid, still);
  }
}
