import type { Logger } from '../observability/logger.js';

/** Releases sent per slice: what a command queued behind them on the command connection waits for. */
export const RELEASE_SLICE = 256;

/**
 * Registry releases of closed sockets, sent a slice at a time (docs/architecture.md §5.2).
 *
 * When every station of a node drops at once (a load balancer restarting, a network cut), uWS
 * hands the node thousands of socket closes in one poll phase of the event loop. Sending one
 * compare-and-delete per close right there was about 60 % of the close handler's CPU in a
 * profile of 12,000 dropped sockets, and queued one command per socket on the Redis command
 * connection ahead of the heartbeat: in the 57,000-station storm the node's loop stood still for
 * 4.4 s, its heartbeat missed the node TTL and its peers judged it dead and adopted its MQTT
 * session (bench/RESULTS.md). Now a close only queues the release; slices of at most
 * {@link RELEASE_SLICE} leave one event-loop turn after another, each once the one before is
 * answered, so timers run between slices and a claim waits behind one slice at most (the
 * heartbeat has its own connection since, cluster/redis-link.ts).
 *
 * Sending later is safe: a release deletes the entry only while it still holds this node's
 * exact owner value (node and session epoch), so it can never remove a newer claim, here or on
 * another node. Until it is sent, a lookup finds this node's entry and a command for the station
 * is answered `offline` here (cluster/unowned-redelivery.ts) or refused `stale` by this node
 * and looked up again by its router: the answers a missing entry gives, one hop later.
 */
export class ReleaseQueue {
  private keys: string[] = [];
  private owners: string[] = [];
  /** The first release not yet sent. */
  private head = 0;
  private sending = false;
  /** Sent in the current slice, not answered yet. */
  private inFlight = 0;

  constructor(
    private readonly send: (key: string, owner: string) => Promise<unknown>,
    private readonly log: Logger,
    private readonly slice = RELEASE_SLICE,
  ) {}

  /** Releases not sent yet, or sent and not answered: a draining node waits for none left. */
  get pending(): number {
    return this.sending ? this.keys.length - this.head + this.inFlight : 0;
  }

  push(key: string, owner: string): void {
    this.keys.push(key);
    this.owners.push(owner);
    if (this.sending) return;
    this.sending = true;
    setImmediate(() => this.next());
  }

  private next(): void {
    if (this.head === this.keys.length) {
      this.keys = [];
      this.owners = [];
      this.head = 0;
      this.sending = false;
      return;
    }
    const end = Math.min(this.keys.length, this.head + this.slice);
    const sent: Promise<unknown>[] = [];
    for (let i = this.head; i < end; i++) {
      try {
        sent.push(this.send(this.keys[i] as string, this.owners[i] as string));
      } catch (error) {
        sent.push(Promise.reject(error instanceof Error ? error : new Error(String(error))));
      }
    }
    this.inFlight = sent.length;
    this.head = end;
    void Promise.allSettled(sent).then((results) => {
      this.inFlight = 0;
      const failed = results.filter((r) => r.status === 'rejected');
      // Redis away: the entries are left to expire (their TTL) or to be cleaned as stale once
      // this node is gone; a lookup meanwhile finds this node, which answers for them.
      if (failed.length > 0)
        this.log.debug(
          { failed: failed.length, err: failed[0]?.reason },
          'releases failed; entries left to expire',
        );
      setImmediate(() => this.next());
    });
  }
}
