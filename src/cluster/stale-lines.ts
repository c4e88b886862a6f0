/** Charge points remembered at most; past it a refusal is not remembered (order given up). */
const MAX_LINES = 20_000;

/**
 * The owner's side of per-charge-point order when it answers a forwarded command `stale`
 * (docs/architecture.md §5.14). The routing node lets a charge point's next command go as soon
 * as the previous one is published on the route bus to the same owner, and routes a command
 * answered `stale` again only when the reply is back, by which time the next one may be on its
 * way. So when the owner refused command 7 (its liveness had lapsed)
 * and then, liveness back, wrote command 8, the routed-again 7 came after 8: the chaos run's
 * order-keeping mode had 34 such reorders in 100,000 commands around a Redis master failover.
 *
 * So once a command of a charge point is refused, every later command of that charge point is
 * refused too, until the refused ones come back: they return in the order they were refused (the
 * sender queues each `stale` in its line in the order the replies arrive, and one route-bus
 * channel keeps order), each is let through, and the line is gone with the last. A sender that
 * does not route one again (it found another owner, or answered it) leaves the line to expire
 * after `holdMs`, the route timeout: by then it has given up on every command of the line.
 *
 * A command admitted before the refusal can still be waiting for its written-mark behind the
 * refused one (owner-delivery.ts take line); {@link overtakes} tells it to be refused as well.
 */
interface Line {
  /** uniqueId -> the refused command's arrival tick, and the tick of its refusal. */
  readonly refused: Map<string, { readonly arrival: number; readonly at: number }>;
  until: number;
}

export class StaleLines {
  private readonly lines = new Map<string, Line>();
  /** One counter for arrivals and refusals: tells which came first. */
  private ticks = 0;

  constructor(
    private readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A `deliver` came: its arrival tick, for {@link refused} and {@link overtakes}. */
  arrived(): number {
    this.ticks += 1;
    return this.ticks;
  }

  /**
   * `uniqueId` (which arrived at `arrival`) was answered `stale`: it, not what comes after it, may
   * be written next.
   */
  refused(cid: string, uniqueId: string, arrival: number): void {
    const at = this.now();
    let line = this.live(cid, at);
    if (line === undefined) {
      if (this.lines.size >= MAX_LINES) return;
      line = { refused: new Map(), until: 0 };
      this.lines.set(cid, line);
    }
    this.ticks += 1;
    line.refused.set(uniqueId, { arrival, at: this.ticks });
    line.until = at + this.holdMs;
  }

  /**
   * Whether a command of `cid` that arrived before `arrival` was refused after it and is not back
   * yet: the one that arrived at `arrival`, admitted and then waiting for its written-mark behind
   * it, must not be written before that one's second routing. The chaos run's order-keeping mode
   * wrote command 20 at 34.28 s and 19 at 35.66 s around a Redis failover: 19 was parked for its
   * mark and left behind (its link closed), 20's take was answered meanwhile.
   */
  overtakes(cid: string, arrival: number): boolean {
    const line = this.live(cid, this.now());
    if (line === undefined) return false;
    for (const earlier of line.refused.values())
      if (earlier.arrival < arrival && earlier.at > arrival) return true;
    return false;
  }

  /**
   * False: an earlier command of this charge point was refused and is not back yet, so this one
   * must be refused as well (and is then remembered by the caller through {@link refused}).
   */
  admits(cid: string, uniqueId: string): boolean {
    const line = this.live(cid, this.now());
    if (line === undefined) return true;
    if (!line.refused.delete(uniqueId)) return false;
    if (line.refused.size === 0) this.lines.delete(cid);
    return true;
  }

  private live(cid: string, at: number): Line | undefined {
    const line = this.lines.get(cid);
    if (line !== undefined && line.until <= at) {
      this.lines.delete(cid);
      return undefined;
    }
    return line;
  }
}
