import type { MqttClient } from 'mqtt';
import { callResultMessage } from './call-replies.js';

export const UPSTREAM_PREFIX = 'ocpp/cp/';
export const DOWNSTREAM_PREFIX = 'ocpp/cs/';

/** Counts of the responder, in the stats line. */
export interface ResponderStats {
  callsSeen: number;
  answered: number;
  /** Upstream messages on `ocpp/cp/{cid}` that are not a CALL (not JSON, or another type). */
  ignored: number;
  stationsSeen: number;
}

/**
 * The CSMS side: answers every CALL that reaches `ocpp/cp/{cid}` with a CALLRESULT on
 * `ocpp/cs/{cid}` after `latencyMs`, and remembers each station that sent one, so the command
 * sender knows whom it can address.
 */
export class CallResponder {
  readonly stats: ResponderStats = { callsSeen: 0, answered: 0, ignored: 0, stationsSeen: 0 };
  /** Station ids in the order they were first seen. */
  readonly stations: string[] = [];
  private readonly known = new Set<string>();

  constructor(
    private readonly client: MqttClient,
    private readonly latencyMs: number,
  ) {}

  /** `filterPrefix` is `$share/<group>/` when replicas split the work, else ''. */
  async start(filterPrefix: string): Promise<void> {
    this.client.on('message', (topic, payload) => {
      // `ocpp/cp/{cid}` only: replies (`/Reply`) and events (`/Notify`) have a further level.
      if (!topic.startsWith(UPSTREAM_PREFIX) || topic.indexOf('/', UPSTREAM_PREFIX.length) !== -1) return;
      this.onCall(topic.slice(UPSTREAM_PREFIX.length), payload);
    });
    // QoS 1: a CALL the broker dropped on the way to us would show up as a station timeout.
    await this.client.subscribeAsync(`${filterPrefix}${UPSTREAM_PREFIX}+`, { qos: 1 });
  }

  /**
   * The gateway answered a command with `offline` (no session for the station): stop addressing
   * it until it sends a CALL again, so a run that outlives some stations measures the live ones.
   */
  forget(cid: string): void {
    if (!this.known.delete(cid)) return;
    const index = this.stations.indexOf(cid);
    if (index >= 0) this.stations.splice(index, 1);
  }

  private onCall(cid: string, payload: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(payload.toString('utf8'));
    } catch {
      this.stats.ignored++;
      return;
    }
    const { MessageTypeId, UniqueId, Action } = (message ?? {}) as Record<string, unknown>;
    if (MessageTypeId !== 2 || typeof UniqueId !== 'string' || typeof Action !== 'string') {
      this.stats.ignored++;
      return;
    }
    this.stats.callsSeen++;
    if (!this.known.has(cid)) {
      this.known.add(cid);
      this.stations.push(cid);
      this.stats.stationsSeen++;
    }
    const reply = (): void => {
      this.stats.answered++;
      this.client.publish(`${DOWNSTREAM_PREFIX}${cid}`, callResultMessage(UniqueId, Action, new Date()), {
        qos: 1,
      });
    };
    if (this.latencyMs > 0) setTimeout(reply, this.latencyMs);
    else reply();
  }
}
