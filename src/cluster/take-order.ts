/**
 * What to run once a take is answered: `undefined` when the command has left (written, answered,
 * refused), or a promise that settles once it has (parked for its mark, owner-delivery.ts).
 */
export type TakeTurn = (run: () => Promise<void> | undefined) => void;

/**
 * A place at the head of a line, for a command that holds its turn while it is elsewhere (parked,
 * or given back to the broker until its copy comes): `left` settles once the turn was run.
 */
export function headTurn(): { turn: TakeTurn; left: Promise<void> } {
  let settle: () => void = () => undefined;
  const left = new Promise<void>((resolve) => (settle = resolve));
  const turn: TakeTurn = (run) => void (run() ?? Promise.resolve()).then(settle, settle);
  return { turn, left };
}

interface Slot {
  run: (() => Promise<void> | undefined) | undefined;
  started: boolean;
}

/**
 * The owner's per-charge-point FIFO across the written-mark take (docs/architecture.md §5.14).
 * Each CALL's mark is one Redis call, and the calls of one charge point share a hash slot and so
 * a connection, which answers in order; but while that slot fails over, the Redis Cluster client
 * retries each call on its own timer, and a later command's take can come back first: the chaos
 * run's order-keeping mode wrote a later command first 22 times around a master failover and 15
 * times around a drain. So what follows a take runs in the order the takes were started, whatever
 * order Redis answers in, and a command parked for its mark (§5.13) keeps its place: the line
 * waits until it has left. A charge point with no take in flight has no line.
 */
export class TakeOrder {
  /** Per charge point: the takes in flight, in the order they started. */
  private readonly lines = new Map<string, Slot[]>();

  /** Joins `cid`'s line; the returned function, called once, runs its part in line order. */
  enter(cid: string): TakeTurn {
    let line = this.lines.get(cid);
    if (line === undefined) {
      line = [];
      this.lines.set(cid, line);
    }
    const slot: Slot = { run: undefined, started: false };
    line.push(slot);
    const own = line;
    return (run) => {
      slot.run = run;
      this.flush(cid, own);
    };
  }

  /** A loop, not recursion: a long line whose takes are all answered does not grow the stack. */
  private flush(cid: string, line: Slot[]): void {
    for (;;) {
      const head = line[0];
      if (head === undefined) {
        if (this.lines.get(cid) === line) this.lines.delete(cid);
        return;
      }
      if (head.run === undefined || head.started) return;
      head.started = true;
      const holding = head.run();
      if (holding !== undefined) {
        const next = (): void => {
          line.shift();
          this.flush(cid, line);
        };
        holding.then(next, next);
        return;
      }
      line.shift();
    }
  }
}
