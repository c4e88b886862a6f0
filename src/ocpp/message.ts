import type { JsonObject } from './frame.js';

/**
 * Contracts shared by the edge, the MQTT bridge and the cluster: a downstream message in memory,
 * the completion of a command, and the context a delivery travels with. They belong to no side;
 * the Redis wire format has its own types (cluster/route-envelope.ts), so renaming a field here
 * never changes what nodes send each other.
 */

/** A message from the backend to a charge point, parsed from its EMQX payload (docs/architecture.md §2.5). */
export type DownstreamMessage =
  | { readonly type: 2; readonly uniqueId: string; readonly action: string; readonly payload: JsonObject }
  | { readonly type: 3; readonly uniqueId: string; readonly payload: JsonObject }
  | {
      readonly type: 4;
      readonly uniqueId: string;
      readonly errorCode: string;
      readonly errorDescription: string;
      readonly errorDetails: JsonObject;
    }
  /** OCPP-J 2.1 CALLRESULTERROR: the backend found a charge point's CALLRESULT invalid. */
  | {
      readonly type: 5;
      readonly uniqueId: string;
      readonly errorCode: string;
      readonly errorDescription: string;
      readonly errorDetails: JsonObject;
    }
  /** OCPP-J 2.1 SEND: written outside the one-outstanding-CALL rule, never answered. */
  | { readonly type: 6; readonly uniqueId: string; readonly action: string; readonly payload: JsonObject };

/**
 * The completion of a command: runs once its outcome is out (the charge point's answer or the
 * gateway's error reply published, a reply written or reported). The MQTT message that carried
 * the command is acknowledged only from here (docs/architecture.md §4.2).
 */
export type Ack = () => void;

/**
 * Leaves a message to the broker unanswered. True when the broker's copy of it had already come
 * and is handed out right after (in a microtask, bridge/inbox.ts): the caller may keep the
 * message's place in line for it (cluster/copy-turns.ts).
 */
export type Release = () => boolean;

/** What a downstream message travels with on its way to a session. */
export interface Delivery {
  readonly ack: Ack;
  /** The broker or the route bus says it may have been delivered before (MQTT DUP, envelope `dup`). */
  readonly redelivered: boolean;
  /**
   * Instead of `ack`: the message is given up unanswered and left to the broker, whose next copy
   * must then be handled afresh (bridge/inbox.ts). Absent for messages no broker redelivers.
   */
  readonly release?: Release | undefined;
  /**
   * False once the MQTT connection the message came on is gone for good: an adopted session its
   * node took back (docs/architecture.md §5.8). The broker gives the node every message not
   * acknowledged here, and the node answers it; an error reply decided here after that would be a
   * second outcome, so none is published (the message is released). Absent: always true.
   */
  readonly live?: (() => boolean) | undefined;
  /** The lapse gate's epoch when the message came from the node's own link (cluster/lapse-gate.ts). */
  readonly linkEpoch?: number | undefined;
}

/** An error reply decided for `delivery` is withdrawn instead: see {@link Delivery.live}. */
export function withdrawn(delivery: Delivery): boolean {
  if (delivery.live === undefined || delivery.live()) return false;
  delivery.release?.();
  return true;
}
