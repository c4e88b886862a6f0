import type { Delivery } from '../ocpp/message.js';
import type { LapseGate } from './lapse-gate.js';

/**
 * Parks a command that cannot be routed now (docs/architecture.md §5.13) without giving up its
 * place: the promise settles once the command has left after all (`restart` ran it again and it
 * left) or was left to the broker (the link closed), and until then its charge point's line
 * (station-order.ts) waits behind it. Counting a parked command as gone let a later command of the
 * same charge point pass it, for instance on an owner-cache hit while the slot of the earlier
 * lookup had no master (the chaos run's order-keeping mode, §5.14). Left to the broker, the
 * command's MQTT message is released, so that the broker's next copy is handled (bridge/inbox.ts).
 * `undefined`: not parked (the gate is open), the caller goes on.
 */
export function parkAtHead(
  gate: LapseGate | undefined,
  delivery: Delivery,
  restart: () => Promise<void> | undefined,
  error?: unknown,
  /** Runs just before the command is given back to the broker (its copy may be handed out at once). */
  givenBack: () => void = () => undefined,
): Promise<void> | undefined {
  if (gate === undefined) return undefined;
  // Its link closed while lapsed since it came: the broker's again, routed by whoever holds the
  // session, in order with what was parked before it (lapse-gate.ts `leftSince`).
  if (gate.leftSince(delivery.linkEpoch)) {
    givenBack();
    delivery.release?.();
    return Promise.resolve();
  }
  let settle: () => void = () => undefined;
  const left = new Promise<void>((resolve) => (settle = resolve));
  const retry = (): void => void (restart() ?? Promise.resolve()).then(settle, settle);
  const dropped = (): void => {
    givenBack();
    delivery.release?.();
    settle();
  };
  return gate.park(retry, error, dropped) ? left : undefined;
}
