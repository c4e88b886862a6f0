/**
 * Timings and sizes the gateway is tuned with but does not expose as OCPP_GW_* variables: named
 * here, once, so a change is one line and a reader finds them all. Each says why it has its value.
 */
export const TUNING = Object.freeze({
  /** Draining cluster node: longest wait for forwarded commands and publishes to finish before `bye`. */
  quiesceMs: 5000,
  /** How often the drain checks whether forwarded commands and publishes are done. */
  quiescePollMs: 20,
  /**
   * Each other shutdown step (unsubscribe, cluster stop, Redis quit, broker and HTTP close): a
   * broker or Redis that stopped answering cannot hold the exit. With the quiesce wait, the whole
   * shutdown after the drain takes at most quiesceMs + 5 x shutdownStepMs.
   */
  shutdownStepMs: 1000,
  /** Session adoption: the adopted session is done once no message came for this long. */
  adoptQuietMs: 2000,
  /** Session adoption: at most the route timeout plus this margin (a forwarded command may still end). */
  adoptMarginMs: 10_000,
  /** How long a routing node trusts an owner it looked up: a wrong guess costs one extra hop (owner-cache.ts). */
  ownerCacheTtlMs: 5000,
  /** How many owners it remembers: 200k entries are about 30 MB at most. */
  ownerCacheMax: 200_000,
  /** Written-marks of finished commands outlive a dead node's detection and adoption. */
  minDoneMarkTtlMs: 30_000,
  /** A `deliver` to a freshly looked-up owner that reaches nobody is sent again this long (route-bus.ts). */
  unheardOwnerMs: 2000,
  /** Finished marks are shortened together at most this long after their outcome. */
  finishedMarkBatchMs: 50,
  /**
   * Back from a lapse, the longest wait for the MQTT link to answer a ping before parked messages
   * go on (lapse-gate.ts): a broker too slow to answer says nothing about a takeover.
   */
  linkProbeMs: 2000,
  /** Re-assert retries after Redis comes back: exponential from here... */
  reassertRetryBaseMs: 250,
  /** ...up to this. */
  reassertRetryMaxMs: 10_000,
  /** Redis failing on the routing path: at most one warning line per this interval, with a count. */
  routingWarnIntervalMs: 10_000,
  /**
   * Per-charge-point order on a routing node (station-order.ts): commands of one charge point
   * waiting behind one still being routed. The owner queues at most OCPP_GW_MAX_QUEUE_LENGTH
   * (100) behind the one outstanding anyway, so a longer line here would only move queue_full.
   */
  orderMaxPerCp: 100,
  /** All lines of a node together: about 1 KiB each, 20 MiB at most while Redis is slow. */
  orderMaxTotal: 20_000,
  /**
   * CALLs a node remembers writing (local-writes.ts), for the done-mark TTL: 30 s at 3,000
   * commands a second; about 100 bytes each, 10 MiB at most.
   */
  localWritesMax: 100_000,
  /**
   * Arrival places of commands the routing node left to the broker (released-places.ts), kept
   * until the broker's copy comes: at once when it was already here, else on the next connection.
   */
  releasedPlacesMax: 20_000,
  releasedPlaceMs: 60_000,
  /**
   * How long the owner's take line waits for the broker's copy of a command it gave back
   * (copy-turns.ts). Handed out at once, the copy is here within the routing node's line; past
   * this, a stalled copy no longer holds its charge point's later commands.
   */
  copyTurnMs: 2000,
  /**
   * Writes batched for the event-loop turn (io/turn-batch.ts, io/write-coalescer.ts) leave at the
   * next write once the batch is this old. A turn normally lasts well under it; but when thousands
   * of sockets close or open at once, libuv serves their events for seconds in one poll phase (up
   * to 48 rounds of 1,024 before it returns to timers and immediates), and a batch held to the end
   * of the turn held every Redis claim and MQTT publish of a 57,000-station storm for 4.7 s.
   */
  turnBatchMaxMs: 10,
});
