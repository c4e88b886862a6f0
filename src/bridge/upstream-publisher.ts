import type { CallErrorFrame, CallFrame, CallResultFrame } from '../ocpp/frame.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { callErrorPayload, callPayload, callResultPayload, gatewayErrorPayload } from './envelope.js';
import type { MqttLink, UserProperties } from './mqtt-link.js';
import type { TopicMap } from './topic-map.js';

/**
 * Runs once the broker has acknowledged (or refused) a publish. A downstream command's MQTT
 * message is acknowledged only from here, once its outcome is out (DESIGN §4).
 */
export type Settled = () => void;

/** What the publisher needs to know of the charge point a message came from. */
export interface Origin {
  readonly cid: string;
  readonly protoVer: string;
}

/**
 * Everything the gateway publishes: the charge point's frames (EMQX layout), the gateway's own
 * error replies, presence events and diagnostics. Metadata rides in MQTT 5 user properties,
 * never in the EMQX payload (DESIGN §2).
 */
export class UpstreamPublisher {
  constructor(
    private readonly link: MqttLink,
    private readonly topics: TopicMap,
    private readonly qos: 0 | 1 | 2,
    private readonly nodeId: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  private props(origin: Origin, receivedAt: number): UserProperties {
    return {
      'ocpp-version': origin.protoVer,
      'gateway-node': this.nodeId,
      'received-at': String(receivedAt),
    };
  }

  private send(
    topic: string,
    payload: string,
    qos: 0 | 1 | 2,
    props: UserProperties,
    startedAt: number,
    failed?: (error: Error) => void,
    settled?: Settled,
  ): void {
    this.link.publish(topic, payload, qos, props, (error) => {
      if (error !== undefined) {
        this.metrics.publishFailures.inc();
        this.log.error({ topic, err: error.message }, 'mqtt publish failed');
        failed?.(error);
      } else {
        this.metrics.publishDuration.observe((performance.now() - startedAt) / 1000);
      }
      settled?.();
    });
  }

  /**
   * `failed` runs when the broker refused the publish or the backlog was full. The charge-point
   * frames return false, publishing nothing, when the frame cannot be encoded (envelope.ts).
   */
  call(
    origin: Origin,
    frame: CallFrame,
    payloadText: string | undefined,
    receivedAt: number,
    startedAt: number,
    failed: (error: Error) => void,
  ): boolean {
    const payload = callPayload(frame, payloadText);
    if (payload === undefined) return false;
    this.metrics.message('upstream', 'call', frame[2]);
    const topic = this.topics.call(origin.cid, frame[2], frame[1]);
    this.send(topic, payload, this.qos, this.props(origin, receivedAt), startedAt, failed);
    return true;
  }

  callResult(
    origin: Origin,
    frame: CallResultFrame,
    payloadText: string | undefined,
    action: string | undefined,
    receivedAt: number,
    startedAt: number,
    settled?: Settled,
  ): boolean {
    const payload = callResultPayload(frame, action, payloadText);
    if (payload === undefined) return false;
    this.metrics.message('upstream', 'callresult', action);
    const topic = this.topics.callResult(origin.cid, frame[1]);
    const props = this.props(origin, receivedAt);
    this.send(topic, payload, this.qos, props, startedAt, undefined, settled);
    return true;
  }

  callError(
    origin: Origin,
    frame: CallErrorFrame,
    action: string | undefined,
    receivedAt: number,
    startedAt: number,
    settled?: Settled,
  ): boolean {
    const payload = callErrorPayload(frame, action);
    if (payload === undefined) return false;
    this.metrics.message('upstream', 'callerror', action);
    const topic = this.topics.callError(origin.cid, frame[1]);
    const props = this.props(origin, receivedAt);
    this.send(topic, payload, this.qos, props, startedAt, undefined, settled);
    return true;
  }

  /**
   * The gateway's answer for a downstream CALL that cannot end normally (DESIGN §3 "Nothing is
   * silent"): a CALLERROR on the charge point's error topic with origin and reason.
   */
  gatewayError(
    cid: string,
    uniqueId: string,
    action: string | undefined,
    reason: GatewayReason,
    errorCode: string,
    description: string,
    settled?: Settled,
  ): void {
    this.metrics.commandFailed(reason);
    const now = Date.now();
    const props: UserProperties = {
      origin: 'gateway',
      'gateway-node': this.nodeId,
      'received-at': String(now),
    };
    const payload = gatewayErrorPayload(uniqueId, action, reason, errorCode, description);
    const topic = this.topics.callError(cid, uniqueId);
    this.send(topic, payload, this.qos, props, performance.now(), undefined, settled);
    this.log.info({ cpId: cid, msgId: uniqueId, action, reason }, 'downstream command answered by gateway');
  }

  /**
   * A downstream message that did not reach its charge point (DESIGN §3 "Nothing is silent"). A
   * CALL is answered with a gateway error reply; a CALLRESULT/CALLERROR has no Reply topic to go
   * to, so it is counted and reported on the diagnostics topic.
   */
  undelivered(
    cid: string,
    messageTypeId: 2 | 3 | 4,
    uniqueId: string,
    action: string | undefined,
    reason: GatewayReason,
    settled?: Settled,
  ): void {
    const description = `command not delivered: ${reason}`;
    if (messageTypeId === 2) {
      this.gatewayError(cid, uniqueId, action, reason, 'GenericError', description, settled);
      return;
    }
    this.metrics.commandFailed(reason);
    this.diagnostic({ reason, cid, uniqueId, messageTypeId }, settled);
  }

  presence(cid: string, event: 'connected' | 'disconnected', body: Record<string, unknown>): void {
    const topic = this.topics.presenceTopic(cid, event);
    if (topic === undefined) return;
    const props: UserProperties = { origin: 'gateway', 'gateway-node': this.nodeId };
    this.send(topic, JSON.stringify(body), 1, props, performance.now());
  }

  /** Reports what cannot be answered on a Reply topic (a downstream message with no usable id). */
  diagnostic(body: Record<string, unknown>, settled?: Settled): void {
    const props: UserProperties = { origin: 'gateway', 'gateway-node': this.nodeId };
    this.send(
      this.topics.diagnosticsTopic,
      JSON.stringify({ node: this.nodeId, at: new Date().toISOString(), ...body }),
      1,
      props,
      performance.now(),
      undefined,
      settled,
    );
  }
}
