import { createInterface } from 'node:readline';
import type { JsonLine } from './processes.js';
import type { BootCounts } from './swarm-protocol.js';

/**
 * Line protocol between bench/routing.ts and its two kinds of children, like swarm-protocol.ts:
 * a child writes one JSON report per line on stdout (`type`), the parent writes commands on the
 * child's stdin (`cmd`). The CP responders (bench/client/call-responder.ts) hold the charge
 * points; the command backend (bench/client/command-backend.ts) is the CSMS behind MQTT.
 */

/** call-responder: every CP has booted or failed; `cids` are the booted ones, the backend's targets. */
export interface ResponderReady extends BootCounts {
  type: 'responder-ready';
  cids: string[];
}

/** call-responder: after `close`, just before exit. */
export interface ResponderDone {
  type: 'responder-done';
  /** CALLs the CPs received and answered with `[3, id, {"status":"Accepted"}]`. */
  callsAnswered: number;
  /** Frames that were not a CALL (or not valid JSON): the target sent something unexpected. */
  unexpectedFrames: number;
  firstUnexpectedFrame: string | undefined;
  closedAfterOpen: number;
}

/** command-backend: connected and subscribed to the Reply topic. */
export interface BackendReady {
  type: 'backend-ready';
}

/** command-backend: the end of a timed run, after draining. */
export interface BackendResult {
  type: 'backend-result';
  /** Commands published on `ocpp/cs/{cid}` (each a ChangeAvailability CALL). */
  sent: number;
  /** Commands whose CP CALLRESULT came back on `ocpp/cp/{cid}/Reply`. */
  answered: number;
  /** Commands answered with a CALLERROR (from the CP or the gateway) on the Reply topic. */
  errorReplied: number;
  /** CALLERRORs by `ErrorDetails.reason` (gateway errors) or else `ErrorCode`. */
  errorReasons: Record<string, number>;
  firstErrorReply: string | undefined;
  /** Replies whose UniqueId was not (or no longer) pending: duplicates or strays. */
  unknownReplies: number;
  /** Publishes the backend's MQTT client reported as failed. */
  publishErrors: number;
  /** CALLRESULTs received within [warm-up, end of sending). */
  answeredInWindow: number;
  /** Paced mode (BACKEND_RATE): commands due while every CP had its window full, not sent. */
  skipped: number;
  windowMs: number;
  /** Round-trip histogram (publish -> CALLRESULT seen) of the CALLRESULTs in the window. */
  histogram: number[];
  /** Longest round trip in the window, exact, in µs. */
  maxMicros: number;
  /** CALLRESULTs per second since the start. */
  perSecond: number[];
}

export type RoutingReport = ResponderReady | ResponderDone | BackendReady | BackendResult;
export type RoutingCommand = { cmd: 'start'; cids: string[] } | { cmd: 'close' };

export function emitRoutingReport(report: RoutingReport): void {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

export function isRoutingReport<T extends RoutingReport['type']>(type: T): (line: JsonLine) => boolean {
  return (line) => line.type === type;
}

/**
 * Calls `onCommand` for each stdin command. stdin closing means the parent is gone: the child
 * exits instead of lingering with open sockets.
 */
export function onRoutingCommand(onCommand: (command: RoutingCommand) => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (text) => onCommand(JSON.parse(text) as RoutingCommand));
  lines.on('close', () => process.exit(0));
}
