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
 */
export class StaleLines {
  private readonly lines = new Map<string, { ids: Set<string>; until: number }>();

  constructor(
    private readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `uniqueId` was answered `stale`: it, not what comes after it, may be written next. */
  refused(cid: string, uniqueId: string): void {
    const at = this.now();
    let line = this.live(cid, at);
    if (line === undefined) {
      if (this.lines.size >= MAX_LINES) return;
      line = { ids: new Set(), until: 0 };
      this.lines.set(cid, line);
    }
    line.ids.add(uniqueId);
    line.until = at + this.holdMs;
  }

  /**
   * False: an earlier command of this charge point was refused and is not back yet, so this one
   * must be refused as well (and is then remembered by the caller through {@link refused}).
   */
  admits(cid: string, uniqueId: string): boolean {
    const line = this.live(cid, this.now());
    if (line === undefined) return true;
    if (!line.ids.delete(uniqueId)) return false;
    if (line.ids.size === 0) this.lines.delete(cid);
    return true;
  }

  private live(cid: string, at: number): { ids: Set<string>; until: number } | undefined {
    const line = this.lines.get(cid);
    if (line !== undefined && line.until <= at) {
      this.lines.delete(cid);
      return undefined;
    }
    return line;
  }
}
