import type { IDisconnectPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import type { Logger } from '../observability/logger.js';
import { SESSION_TAKEN_OVER, type OrphanRelease } from './orphan-release.js';
import { ReleasedPublishes, type Republish } from './released-publishes.js';

interface Reconnecting {
  _clearReconnect(): void;
}

/**
 * Keeps the link's session honest across reconnects (docs/architecture.md §5.13):
 * - subscriptions are sent again on every reconnect, whatever `sessionPresent` says: the session
 *   the broker resumed may have been adopted meanwhile, and the adopter unsubscribed its filters;
 * - a session taken over by another client (an adopter that judged this node dead) is not
 *   taken back blindly: the owner of the link is told and may {@link hold} reconnecting until
 *   it has re-established its liveness, then {@link resume};
 * - QoS 2 publishes past their PUBREC are sent again when the broker comes back without the
 *   session (released-publishes.ts).
 */
export class LinkGuard {
  private readonly filters = new Map<string, 0 | 1 | 2>();
  private readonly period: number;
  private takenOverHandler: (() => void) | undefined;
  private closeHandler: (() => void) | undefined;
  held = false;

  constructor(
    private readonly client: MqttClient,
    private readonly log: Logger,
    republish: Republish,
    orphans?: OrphanRelease,
  ) {
    this.period = client.options.reconnectPeriod ?? 1000;
    new ReleasedPublishes(client, republish);
    client.on('disconnect', (packet: IDisconnectPacket) => {
      if (packet.reasonCode !== SESSION_TAKEN_OVER) return;
      log.warn('mqtt session taken over by another client');
      this.takenOverHandler?.();
    });
    client.on('close', () => this.closeHandler?.());
    // Listeners are added after the first CONNACK: each 'connect' here is a reconnect.
    // After the session-resume PUBRELs are answered (orphan-release.ts): a SUBSCRIBE must not take
    // a packet id whose PUBCOMP is still on its way.
    client.on('connect', () => {
      if (orphans === undefined) this.subscribeAgain();
      else orphans.whenReleased(() => this.subscribeAgain());
    });
  }

  private subscribeAgain(): void {
    const { client, log } = this;
    for (const [filter, qos] of this.filters) {
      // `resubscribe: true` makes mqtt.js send it although it believes the filter subscribed.
      const request = { [filter]: { qos }, resubscribe: true } as unknown as ISubscriptionMap;
      client.subscribe(request, (error, granted) => {
        const code = granted?.[0]?.qos ?? 0x80;
        if (error === null && code < 0x80) return;
        log.error({ err: error, filter, code }, 'mqtt re-subscription after reconnect refused');
      });
    }
  }

  remember(filter: string, qos: 0 | 1 | 2): void {
    this.filters.set(filter, qos);
  }

  forget(filter: string): void {
    this.filters.delete(filter);
  }

  onTakenOver(handler: () => void): void {
    this.takenOverHandler = handler;
  }

  onClose(handler: () => void): void {
    this.closeHandler = handler;
  }

  /**
   * Whether this connection still reaches the broker: a PINGREQ answered (true), or the link
   * closing first (false); no answer within `timeoutMs` says nothing either way (true). The broker
   * closes a connection whose session another client took, and that close can reach us after we
   * have moved on (docs/architecture.md §5.13); a PINGRESP, behind it on the same connection, cannot.
   */
  probe(timeoutMs: number): Promise<boolean> {
    const client = this.client;
    if (!client.connected) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (alive: boolean): void => {
        clearTimeout(timer);
        client.off('packetreceive', onPacket);
        client.off('close', onClose);
        resolve(alive);
      };
      const onPacket = (packet: { cmd: string }): void => {
        if (packet.cmd === 'pingresp') done(true);
      };
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(true), timeoutMs);
      client.on('packetreceive', onPacket);
      client.on('close', onClose);
      client.sendPing();
    });
  }

  /** No reconnect until {@link resume}; a reconnect already scheduled is cancelled. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.client.options.reconnectPeriod = 0;
    (this.client as unknown as Reconnecting)._clearReconnect();
  }

  resume(): void {
    if (!this.held) return;
    this.held = false;
    this.client.options.reconnectPeriod = this.period;
    if (this.client.connected || this.client.disconnecting) return;
    this.log.info('mqtt reconnecting: liveness re-established');
    // mqtt.js's reconnect() without stores replaces them with empty ones: every QoS 1 publish
    // not yet acknowledged (answers and error replies written before the link closed, or made
    // while it was held) would be gone, its callback never called, so its command would get
    // neither an outcome nor its PUBACK. Passing the client's own stores keeps them, and they
    // are sent again after the CONNACK (MQTT 5 §4.4).
    const { incomingStore, outgoingStore } = this.client;
    this.client.reconnect({ incomingStore, outgoingStore });
  }
}
