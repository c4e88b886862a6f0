import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { KNOWN_ACTIONS, VERSIONS } from '../ocpp/versions/index.js';
import { PUBLISH_REFUSALS } from '../errors.js';
import { GATEWAY_REASONS, type GatewayReason } from '../ocpp/error-codes.js';
import type { NodeState } from '../node-state.js';
import { labelledCounter } from './labelled-counter.js';
import { CountedHistogram } from './counted-histogram.js';

/**
 * Every Prometheus metric of a node, `ocpp_gateway_*` in base units (docs/architecture.md §6.5). Labels are bounded:
 * no charge-point id, and actions outside the OCPP catalogue collapse to "other".
 * Hot-path children are cached so a message costs a Map lookup, not a label hash.
 */

export type Direction = 'upstream' | 'downstream';
export type FrameKind = 'call' | 'callresult' | 'callerror' | 'callresulterror' | 'send';

/** Messages counted since the last scrape, and the prom-client child they are added to then. */
interface MessageCount {
  readonly child: Counter.Internal;
  n: number;
}

function countsByKind(): Record<FrameKind, Map<string, MessageCount>> {
  return {
    call: new Map(),
    callresult: new Map(),
    callerror: new Map(),
    callresulterror: new Map(),
    send: new Map(),
  };
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function boundedAction(action: string | undefined): string {
  return action !== undefined && KNOWN_ACTIONS.has(action) ? action : 'other';
}

export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge<'version'>;
  readonly upgrades: Counter<'outcome' | 'reason'>;
  readonly disconnects: Counter<'reason'>;
  readonly messages: Counter<'direction' | 'type' | 'action'>;
  readonly frameErrors: Counter<'error_code'>;
  readonly commandFailures: Counter<'reason'>;
  readonly callDuration: CountedHistogram;
  readonly queueDepth: Gauge;
  readonly downstreamMalformed: Counter<'reason'>;
  readonly mqttConnected: Gauge;
  readonly publishFailures: Counter;
  readonly mqttBacklog: Gauge;
  readonly mqttBacklogOverflow: Counter;
  readonly mqttPublishRejected: Counter<'reason'>;
  readonly publishDuration: CountedHistogram;
  readonly nodeState: Gauge<'state'>;
  /**
   * Per direction and kind, by action label: the child and the messages counted since the last
   * scrape (see {@link message}), found per message without building a key string.
   */
  private readonly messageCounts: Record<Direction, Record<FrameKind, Map<string, MessageCount>>> = {
    upstream: countsByKind(),
    downstream: countsByKind(),
  };

  constructor(nodeId: string, version: string) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'ocpp_gateway_' });
    new Gauge({
      name: 'ocpp_gateway_build_info',
      help: 'Build and node identity (value is always 1)',
      labelNames: ['version', 'node'],
      registers,
    }).set({ version, node: nodeId }, 1);
    this.connections = new Gauge({
      name: 'ocpp_gateway_connections',
      help: 'Charge points connected to this node',
      labelNames: ['version'],
      registers,
    });
    for (const ocpp of Object.values(VERSIONS)) this.connections.labels(ocpp.protoVer).set(0);
    this.upgrades = new Counter({
      name: 'ocpp_gateway_upgrades_total',
      help: 'WebSocket upgrade attempts by outcome and rejection reason',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.disconnects = new Counter({
      name: 'ocpp_gateway_disconnects_total',
      help: 'Closed charge-point sessions by reason',
      labelNames: ['reason'],
      registers,
    });
    this.messages = new Counter({
      name: 'ocpp_gateway_messages_total',
      help: 'OCPP messages bridged, by direction, message type and action',
      labelNames: ['direction', 'type', 'action'],
      registers,
      // Runs on every scrape (and `get()`): the counts kept since the last one go in here.
      collect: () => this.flushMessages(),
    });
    this.frameErrors = labelledCounter({
      name: 'ocpp_gateway_frame_errors_total',
      help: 'Malformed or invalid upstream frames, by the OCPP error code answered',
      label: 'error_code',
      // Every CALLERROR code of every version.
      values: Object.values(VERSIONS).flatMap((version) => Object.values(version.errorCodes)),
      registry: this.registry,
    });
    this.commandFailures = labelledCounter({
      name: 'ocpp_gateway_command_failures_total',
      help: 'Downstream commands the gateway answered with an error reply, by reason',
      label: 'reason',
      values: GATEWAY_REASONS,
      registry: this.registry,
    });
    // Observed once per message on the hot path: counted in plain arrays (counted-histogram.ts).
    this.callDuration = new CountedHistogram({
      name: 'ocpp_gateway_downstream_call_duration_seconds',
      help: 'Time from writing a downstream CALL to the charge point until its answer',
      labelName: 'action',
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.queueDepth = new Gauge({
      name: 'ocpp_gateway_downstream_queue_depth',
      help: 'Downstream CALLs waiting behind an outstanding CALL, summed over sessions',
      registers,
    });
    this.downstreamMalformed = new Counter({
      name: 'ocpp_gateway_downstream_malformed_total',
      help: 'Downstream MQTT messages that could not be turned into an OCPP frame',
      labelNames: ['reason'],
      registers,
    });
    this.mqttConnected = new Gauge({
      name: 'ocpp_gateway_mqtt_connected',
      help: '1 while the MQTT client is connected',
      registers,
    });
    this.publishFailures = new Counter({
      name: 'ocpp_gateway_mqtt_publish_failures_total',
      help: 'MQTT publishes that failed',
      registers,
    });
    this.mqttBacklog = new Gauge({
      name: 'ocpp_gateway_mqtt_backlog_messages',
      help: 'QoS 1/2 publishes waiting for a send slot (broker Receive Maximum) or for the broker to return',
      registers,
    });
    this.mqttBacklogOverflow = new Counter({
      name: 'ocpp_gateway_mqtt_backlog_overflow_total',
      help: 'Publishes refused because the MQTT backlog was full',
      registers,
    });
    this.mqttPublishRejected = labelledCounter({
      name: 'ocpp_gateway_mqtt_publish_rejected_total',
      help: 'Publishes refused once instead of sent (again): a topic or size a broker may drop the connection on, or a publish it did drop it on',
      label: 'reason',
      values: PUBLISH_REFUSALS,
      registry: this.registry,
    });
    this.publishDuration = new CountedHistogram({
      name: 'ocpp_gateway_upstream_publish_duration_seconds',
      help: 'Time from receiving an upstream frame to the broker acknowledging its publish',
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.nodeState = new Gauge({
      name: 'ocpp_gateway_node_state',
      help: '1 for the current node state',
      labelNames: ['state'],
      registers,
    });
  }

  message(direction: Direction, type: FrameKind, action: string | undefined): void {
    const label = type === 'call' || type === 'send' || action !== undefined ? boundedAction(action) : '';
    const counts = this.messageCounts[direction][type];
    let count = counts.get(label);
    if (count === undefined) {
      count = { child: this.messages.labels(direction, type, label), n: 0 };
      counts.set(label, count);
    }
    // Two or three messages per round trip: prom-client's inc() (label hash, value record) cost
    // about 1 % of a node's CPU there; a number is added now and the counter brought up to date
    // at scrape time (docs/architecture.md §4.7).
    count.n += 1;
  }

  private flushMessages(): void {
    for (const byKind of Object.values(this.messageCounts))
      for (const counts of Object.values(byKind))
        for (const count of counts.values()) {
          if (count.n === 0) continue;
          count.child.inc(count.n);
          count.n = 0;
        }
  }

  /** A downstream CALL was answered after `seconds`; its action label is bounded like every other. */
  callAnswered(action: string, seconds: number): void {
    this.callDuration.child(boundedAction(action)).observe(seconds);
  }

  /**
   * A downstream CALL that got no answer within the call timeout counts in the latency
   * histogram at the timeout, so a latency quantile sees charge points that never answer.
   */
  callTimedOut(action: string, seconds: number): void {
    this.callDuration.child(boundedAction(action)).observe(seconds);
  }

  commandFailed(reason: GatewayReason): void {
    this.commandFailures.labels(reason).inc();
  }

  setNodeState(state: NodeState): void {
    for (const s of ['starting', 'ready', 'draining', 'stopped'] as const)
      this.nodeState.set({ state: s }, s === state ? 1 : 0);
  }
}
