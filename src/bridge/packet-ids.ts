import type { MqttClient } from 'mqtt';

/**
 * The packet identifiers this node's publishes and subscriptions take: 1 to {@link PACKET_ID_WINDOW},
 * in turn, skipping those still in flight.
 *
 * mqtt.js's default hands out all 65,535 in turn from a random start and does not look at what is
 * in flight, so an id still waiting for its PUBCOMP could be handed out again ([MQTT-2.2.1-3]
 * forbids it). And a successor resuming the session after this process is killed must release
 * what it left half done (orphan-release.ts) without knowing where it was: within a small window,
 * it sends 1,024 PUBRELs instead of 65,535 (the full sweep cost 1.5 s of the node's CPU and 1.6 s
 * of mosquitto's). The window bounds the publishes in flight (publish-flow.ts), far above what a
 * broker grants (mosquitto 20, EMQX 32 by default).
 */
export const PACKET_ID_WINDOW = 1024;

/** Whether `client` has a publish or subscription in flight under packet id `id` (its `outgoing`). */
export function inFlightOn(client: MqttClient): (id: number) => boolean {
  return (id) => client.outgoing[id] !== undefined;
}

/** An mqtt.js `messageIdProvider` over {@link PACKET_ID_WINDOW}; {@link attach} it to its client. */
export class WindowedPacketIds {
  private next = 1;
  private last: number | null = null;
  private inFlight: (id: number) => boolean = () => false;

  /** In flight: what the client holds in `outgoing` (mqtt.js sets it as it takes the id). */
  attach(client: MqttClient): void {
    this.inFlight = inFlightOn(client);
  }

  allocate(): number | null {
    for (let tries = 0; tries < PACKET_ID_WINDOW; tries++) {
      const id = this.next;
      this.next = id === PACKET_ID_WINDOW ? 1 : id + 1;
      if (this.inFlight(id)) continue;
      this.last = id;
      return id;
    }
    return null;
  }

  getLastAllocated(): number | null {
    return this.last;
  }

  /** mqtt.js registers what it re-sends from its store: those keep their ids. */
  register(): boolean {
    return true;
  }

  deallocate(): void {}

  clear(): void {}
}
