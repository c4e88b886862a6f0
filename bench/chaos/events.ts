/**
 * The chaos run's event logs: one tab-separated line per event, appended by the process that saw
 * it, read back by the checker (bench/chaos/checker.ts). Times are wall-clock milliseconds
 * (Date.now()), the one clock every process of the run shares.
 *
 * Backend (`backend.log`), what the CSMS behind MQTT published and saw:
 *   S t cid uid seq     a command published on `ocpp/cs/{cid}` (QoS 1), per-station `seq`
 *   R t uid kind        a message on `ocpp/cp/{cid}/Reply`: `ok` (CALLRESULT), `gw:{reason}` (a
 *                       gateway error reply), `cp:{ErrorCode}` (a station's own CALLERROR),
 *                       `broker:no_subscribers` (the broker's PUBACK 0x10: dropped, nobody subscribed)
 *   U t cid uid         an upstream CALL seen on `ocpp/cp/{cid}` (answered on `ocpp/cs/{cid}`)
 * Stations (`stations-{n}.log`), what each simulated station saw and did:
 *   C t cid uid seq     a downstream CALL frame read from the socket
 *   u t cid uid         an upstream CALL written to the socket
 *   a t uid             its CALLRESULT arrived
 *   e t uid             a CALLERROR arrived for it (the gateway could not publish it)
 *   x t uid             the socket it was written on closed before either (also one the station
 *                       had already left for another node): the station must send it again
 *   w t uid             no answer within the station's own timeout, socket still open
 * Faults (`faults.log`), written by the runner:
 *   F t name            a fault window opens (and the previous one closes)
 */

export type ChaosEvent =
  | { k: 'S'; t: number; cid: string; uid: string; seq: number }
  | { k: 'R'; t: number; uid: string; kind: string }
  | { k: 'U'; t: number; cid: string; uid: string }
  | { k: 'C'; t: number; cid: string; uid: string; seq: number }
  | { k: 'u'; t: number; cid: string; uid: string }
  | { k: 'a' | 'e' | 'x' | 'w'; t: number; uid: string }
  | { k: 'F'; t: number; name: string };

export function formatEvent(e: ChaosEvent): string {
  switch (e.k) {
    case 'S':
    case 'C':
      return `${e.k}\t${e.t}\t${e.cid}\t${e.uid}\t${e.seq}\n`;
    case 'R':
      return `R\t${e.t}\t${e.uid}\t${e.kind}\n`;
    case 'U':
    case 'u':
      return `${e.k}\t${e.t}\t${e.cid}\t${e.uid}\n`;
    case 'F':
      return `F\t${e.t}\t${e.name}\n`;
    case 'a':
    case 'e':
    case 'x':
    case 'w':
      return `${e.k}\t${e.t}\t${e.uid}\n`;
  }
}

/** One line back into an event; undefined for a blank or torn line (a process killed mid-write). */
export function parseEvent(line: string): ChaosEvent | undefined {
  const f = line.split('\t');
  const t = Number(f[1]);
  if (!Number.isFinite(t)) return undefined;
  const [, , a, b, c] = f;
  const k = f[0] ?? '';
  switch (k) {
    case 'S':
    case 'C':
      if (a === undefined || b === undefined || c === undefined || c === '') return undefined;
      return { k, t, cid: a, uid: b, seq: Number(c) };
    case 'R':
      return a === undefined || b === undefined || b === '' ? undefined : { k, t, uid: a, kind: b };
    case 'U':
    case 'u':
      return a === undefined || b === undefined || b === '' ? undefined : { k, t, cid: a, uid: b };
    case 'F':
      return a === undefined || a === '' ? undefined : { k, t, name: a };
    case 'a':
    case 'e':
    case 'x':
    case 'w':
      return a === undefined || a === '' ? undefined : { k, t, uid: a };
    default:
      return undefined;
  }
}
