/**
 * Routing-bench load generator (one of one or two processes): connects and boots its share of
 * charge points, spread in blocks over the target's nodes, and has every CP answer each CALL it
 * receives at once with `[3, id, {"status":"Accepted"}]`, as a charge point accepting a
 * ChangeAvailability would. Reports `responder-ready` with the booted CP ids, then answers until the
 * parent says `close`.
 *
 * Environment (set by bench/routing.ts): SWARM_BASE_URLS (comma-separated, one per node),
 * SWARM_ID_PREFIX, SWARM_COUNT, SWARM_RATE_PER_S, SWARM_MAX_PENDING, SWARM_DEADLINE_MS.
 */
import type { WebSocket } from 'ws';
import { connectAndBoot, swarmOptionsFromEnv } from '../lib/cp-swarm.js';
import { emitRoutingReport, onRoutingCommand } from '../lib/routing-protocol.js';
import { emptyBootCounts } from '../lib/swarm-protocol.js';

const ACCEPTED = '{"status":"Accepted"}';
/** `ws` readyState OPEN. */
const OPEN = 1;

const counts = emptyBootCounts();
const { cps } = await connectAndBoot(swarmOptionsFromEnv(), counts);

let callsAnswered = 0;
let unexpectedFrames = 0;
let firstUnexpectedFrame: string | undefined;

function unexpected(text: string): void {
  unexpectedFrames++;
  firstUnexpectedFrame ??= text.slice(0, 300);
}

/** Answers a CALL (OCPP-J 1.6 §4.2.1) with its CALLRESULT (§4.2.2); anything else is unexpected. */
function answer(socket: WebSocket, text: string): void {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    unexpected(text);
    return;
  }
  if (!Array.isArray(frame) || frame[0] !== 2 || typeof frame[1] !== 'string') {
    unexpected(text);
    return;
  }
  if (socket.readyState !== OPEN) return;
  callsAnswered++;
  socket.send(`[3,${JSON.stringify(frame[1])},${ACCEPTED}]`);
}

const booted = cps.filter((cp) => cp.booted);
for (const cp of booted) cp.onFrame = (text) => answer(cp.socket, text);
emitRoutingReport({ type: 'responder-ready', ...counts, cids: booted.map((cp) => cp.id) });

onRoutingCommand((command) => {
  switch (command.cmd) {
    case 'start':
      break;
    case 'close':
      // Report what the target closed during the run, before our own closes are counted.
      emitRoutingReport({
        type: 'responder-done',
        callsAnswered,
        unexpectedFrames,
        firstUnexpectedFrame,
        closedAfterOpen: counts.closedAfterOpen,
      });
      for (const cp of cps) cp.socket.terminate();
      process.exit(0);
      break;
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
});
