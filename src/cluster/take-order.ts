/**
 * The owner's per-charge-point FIFO across the written-mark take (docs/architecture.md §5.14).
 * Each CALL's mark is one Redis call, and the calls of one charge point share a hash slot and so
 * a connection, which answers in order; but while that slot fails over, the Redis Cluster client
 * retries each call on its own timer, and a later command's take can come back first: the chaos
 * run's order-keeping mode wrote a later command first 22 times around a master failover and 15
 * times around a drain. So what follows a take runs in the order the takes were started, whatever
 * order Redis answers in. A charge point with no take in flight has no line.
 */
export class TakeOrder {
  /** Per charge point: the takes in flight, in the order they started; `run` set once answered. */
  private readonly lines = new Map<string, { run: (() => void) | undefined }[]>();

  /**
   * Joins `cid`'s line; call the returned function with what to run once this take is answered:
   * it runs when every take started before it on this line has run.
   */
  enter(cid: string): (run: () => void) => void {
    let line = this.lines.get(cid);
    if (line === undefined) {
      line = [];
      this.lines.set(cid, line);
    }
    const turn: { run: (() => void) | undefined } = { run: undefined };
    line.push(turn);
    const own = line;
    return (run) => {
      turn.run = run;
      this.flush(cid, own);
    };
  }

  private flush(cid: string, line: { run: (() => void) | undefined }[]): void {
    for (let head = line[0]; head?.run !== undefined; head = line[0]) {
      line.shift();
      head.run();
    }
    if (line.length === 0 && this.lines.get(cid) === line) this.lines.delete(cid);
  }
}
