import { TUNING } from '../config/tuning.js';
import type { Clock } from '../io/clock.js';
import { RecentMap } from '../io/recent-map.js';

/**
 * The arrival places (router seq) of commands the routing node gave back to the broker unrouted
 * (park-at-head.ts: their MQTT link closed while this node was lapsed, docs/architecture.md
 * §5.13), so that the broker's copy of one takes the place of the command it copies in its
 * charge point's line (station-order.ts), instead of the end of it.
 *
 * The broker sends the copies on its next connection before anything new, so a command of the
 * same charge point that came on that connection waits in the line behind the one given back.
 * When the copy was already here (joined to the command, bridge/inbox.ts), it is handed out as
 * the command is released; entering at the end of the line, it was written after that later
 * command: 25 reordered in a chaos run's `redis-empty` window (bench/RESULTS.md, run O1).
 *
 * Bounded: a place lives until its copy comes or `TUNING.releasedPlaceMs` passes, oldest
 * forgotten first beyond `TUNING.releasedPlacesMax`; a copy that finds none takes a new place.
 */
export class ReleasedPlaces {
  /** `cid\nuniqueId` to its place (router seq), oldest first. */
  private readonly places: RecentMap<number>;

  constructor(clock: Clock, ttlMs: number = TUNING.releasedPlaceMs, max: number = TUNING.releasedPlacesMax) {
    this.places = new RecentMap(ttlMs, max, () => clock.now());
  }

  get size(): number {
    return this.places.size;
  }

  /** The command `uniqueId` of `cid`, arrived as `seq`, is given back to the broker. */
  hold(cid: string, uniqueId: string, seq: number): void {
    this.places.set(`${cid}\n${uniqueId}`, seq);
  }

  /**
   * The place a command takes: a redelivered one its original's, once; undefined when it is not a
   * copy of one given back (it takes a new place).
   */
  placeOf(cid: string, uniqueId: string, redelivered: boolean): number | undefined {
    if (!redelivered || this.places.size === 0) return undefined;
    return this.places.take(`${cid}\n${uniqueId}`);
  }
}
