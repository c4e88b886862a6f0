import { TUNING } from '../config/tuning.js';

/** The part of a net.Socket / TLSSocket the coalescer drives. */
export interface CoalescableSocket {
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean;
  end(...args: unknown[]): unknown;
  readonly destroyed: boolean;
  readonly writableNeedDrain: boolean;
}

type WriteCallback = (error?: Error | null) => void;

const INSTALLED = Symbol('ocpp-gw.write-coalescer');

/** Smallest buffer a turn starts with; it grows to the largest turn seen (up to MAX_KEPT_BYTES). */
const MIN_SLAB_BYTES = 4096;
const MAX_KEPT_BYTES = 256 * 1024;

/**
 * Copies every write made to a socket during one event-loop turn into one buffer and hands that
 * to the socket once, at the end of the turn (setImmediate), as one write and one syscall.
 *
 * Why: a client library writes a packet as several small chunks (mqtt-packet writes an MQTT
 * PUBLISH as 6-8: fixed header, length, topic length, topic, packet id, properties, payload).
 * Corking the socket for the turn already makes one `writev` of them, but Node then walks every
 * chunk in JS (`writevGeneric`, one write request per chunk list) and keeps each small Buffer
 * alive until the kernel took it: measured 15 % of a node's CPU in writev and its JS wrapper, plus
 * the garbage (docs/architecture.md §4.7). Copying small chunks into one slab costs less than
 * either. A chunk written with a callback (the caller wants to know when it left) is written
 * through, after what is pending, so order is kept.
 *
 * Installed per socket (mqtt.js builds a new socket on every reconnect). Nothing is held between
 * turns, nor longer than `maxMs` within one: `end()` flushes first; a destroyed socket drops what
 * it had, as it would itself.
 */
export function coalesceWrites(socket: CoalescableSocket, maxMs: number = TUNING.turnBatchMaxMs): void {
  const target = socket as CoalescableSocket & { [INSTALLED]?: true };
  if (target[INSTALLED] === true) return;
  target[INSTALLED] = true;
  const write = socket.write.bind(socket);
  const end = socket.end.bind(socket);
  let slab: Buffer | undefined;
  let used = 0;
  let lastTurnBytes = MIN_SLAB_BYTES;
  let scheduled = false;
  /** When the slab got its first bytes (performance.now()). */
  let firstAt = 0;

  const flush = (): void => {
    scheduled = false;
    if (slab === undefined || used === 0) return;
    const out = slab.subarray(0, used);
    lastTurnBytes = used;
    // The socket keeps `out` until the kernel takes it: the next turn starts a new slab.
    slab = undefined;
    used = 0;
    if (!socket.destroyed) write(out);
  };

  const room = (bytes: number): Buffer => {
    if (slab !== undefined && used + bytes <= slab.length) return slab;
    let size = Math.max(MIN_SLAB_BYTES, Math.min(lastTurnBytes, MAX_KEPT_BYTES));
    while (size < used + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    if (slab !== undefined) slab.copy(grown, 0, 0, used);
    slab = grown;
    return grown;
  };

  target.write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const cb = (typeof encoding === 'function' ? encoding : callback) as WriteCallback | undefined;
    const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
    if (cb !== undefined || socket.destroyed || !(typeof chunk === 'string' || chunk instanceof Uint8Array)) {
      flush();
      return write(chunk, encoding, callback);
    }
    // A turn that lasts (a flood of socket events, TUNING.turnBatchMaxMs), or a slab grown to the
    // largest kept: what is pending leaves now.
    if (used === 0) firstAt = performance.now();
    else if (used >= MAX_KEPT_BYTES || performance.now() - firstAt >= maxMs) {
      flush();
      firstAt = performance.now();
    }
    if (typeof chunk === 'string') {
      const bytes = Buffer.byteLength(chunk, enc);
      used += room(bytes).write(chunk, used, bytes, enc);
    } else {
      room(chunk.byteLength).set(chunk, used);
      used += chunk.byteLength;
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    // The caller's flow control still sees the socket's own: false once its buffer is full.
    return !socket.writableNeedDrain;
  };

  target.end = (...args: unknown[]): unknown => {
    flush();
    return end(...args);
  };
}
