import { createInterface } from 'node:readline';
import type { JsonLine } from './processes.js';

/**
 * Line protocol between a bench and its load-generator children: the child writes one JSON
 * object per line on stdout (`type`), the parent writes commands on the child's stdin (`cmd`).
 */

/** Connect-and-boot counts, shared by both children. */
export interface BootCounts {
  /** WebSocket handshakes that completed. */
  opened: number;
  /** CPs that received their Accepted BootNotification CALLRESULT. */
  booted: number;
  /** Handshakes that failed (HTTP error, refused, reset, timeout). */
  connectErrors: number;
  /** CPs still waiting for a boot reply when the phase ended. */
  bootPending: number;
  /** Sockets closed by the server or the network after they had opened. */
  closedAfterOpen: number;
  /** The first connect error message, to tell refusals from fd exhaustion. */
  firstError: string | undefined;
  /** Attempts tried again under a retry policy (cp-swarm.ts `retry`); 0 without one. */
  retries: number;
  /** Opened CPs closed and retried because no boot reply came in time. */
  bootTimeouts: number;
}

/** boot-swarm: sent once every CP has booted or failed, or the phase deadline passed. */
export interface BootDone extends BootCounts {
  type: 'boot-done';
  /** From the first connect to the last boot reply, in ms. */
  elapsedMs: number;
}

/** boot-swarm: sent after `close`, just before exit. */
export interface SwarmClosed {
  type: 'closed';
  closedAfterOpen: number;
}

/** call-stream: every CP is booted (or failed) and the subscriber is listening. */
export interface StreamReady extends BootCounts {
  type: 'ready';
}

/** call-stream: the end of a timed run, after draining. */
export interface StreamResult {
  type: 'result';
  /** CALLs written to the sockets. */
  sent: number;
  /** CALLs seen by this child's MQTT subscriber, including during the drain. */
  received: number;
  /** CALLs received within [warm-up, end of sending). */
  receivedInWindow: number;
  windowMs: number;
  /** Latency histogram counts for the CALLs received in the window. */
  histogram: number[];
  /** Received CALLs per second since the start, for the steady-state check. */
  perSecond: number[];
  closedAfterOpen: number;
  /** Frames the CPs received that were not expected (e.g. CALLERRORs from the target). */
  unexpectedFrames: number;
  firstUnexpectedFrame: string | undefined;
}

export type ChildReport = BootDone | SwarmClosed | StreamReady | StreamResult;
export type ParentCommand = { cmd: 'start' } | { cmd: 'close' };

export function emit(report: ChildReport): void {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * Calls `onCommand` for each stdin command. stdin closing means the parent is gone: the child
 * exits instead of lingering with thousands of open sockets.
 */
export function onParentCommand(onCommand: (command: ParentCommand) => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (text) => {
    const command = JSON.parse(text) as ParentCommand;
    onCommand(command);
  });
  lines.on('close', () => process.exit(0));
}

export function isReport<T extends ChildReport['type']>(type: T): (line: JsonLine) => boolean {
  return (line) => line.type === type;
}

export function emptyBootCounts(): BootCounts {
  return {
    opened: 0,
    booted: 0,
    connectErrors: 0,
    bootPending: 0,
    closedAfterOpen: 0,
    firstError: undefined,
    retries: 0,
    bootTimeouts: 0,
  };
}
