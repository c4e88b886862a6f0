import type {
  CallErrorFrame,
  CallFrame,
  CallResultErrorFrame,
  CallResultFrame,
  SendFrame,
} from '../ocpp/frame.js';
import type { GatewayReason } from '../ocpp/error-codes.js';
import type { Ack } from '../ocpp/message.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  callErrorPayload,
  callPayload,
  callResultPayload,
  gatewayErrorPayload,
  withVersionKey,
} from './envelope.js';
import type { MqttLink, UserProperties } from './mqtt-link.js';
import type { TopicMap } from './topic-map.js';
import { DEFAULT_VERSION } from '../ocpp/versions/index.js';
import { PublishRefusedError } from '../errors.js';

/** A gateway error reply: the gateway's answer to a downstream CALL that cannot end normally. */
export interface GatewayErrorReply {
  readonly cid: string;
  readonly uniqueId: string;
  readonly action: string | undefined;
  readonly reason: GatewayReason;
  /** The CALLERROR ErrorCode, spelled by the charge point's OCPP version. */
  readonly errorCode: string;
  readonly description: string;
  /** Runs once the reply is published (or refused). */
  readonly ack?: Ack | undefined;
  /** The charge point's `proto_ver` when a session knows it, for a `${version}` topic placeholder. */
  readonly protoVer?: string | undefined;
}

/** `${version}` of a gateway error reply for a charge point no session here describes. */
const UNKNOWN_VERSION = 'unknown';

export interface UpstreamPublisherOptions {
  readonly link: MqttLink;
  readonly topics: TopicMap;
  /** QoS of the charge points' frames (`OCPP_GW_UPSTREAM_QOS`). */
  readonly qos: 0 | 1 | 2;
  readonly nodeId: string;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/** What the publisher needs to know of the charge point a message came from. */
export interface Origin {
  readonly cid: string;
  readonly protoVer: string;
}

/**
 * Everything the gateway publishes: the charge point's frames (EMQX layout), the gateway's own
 * error replies, presence events and diagnostics. Metadata rides in MQTT 5 user properties,
 * never in the EMQX payload (docs/architecture.md §2.6).
 */
export class UpstreamPublisher {
  private readonly link: MqttLink;
  private readonly topics: TopicMap;
  private readonly qos: 0 | 1 | 2;
  private readonly nodeId: string;
  private readonly metrics: Metrics;
  private readonly log: Logger;

  constructor(options: UpstreamPublisherOptions) {
    ({
      link: this.link,
      topics: this.topics,
      qos: this.qos,
      nodeId: this.nodeId,
      metrics: this.metrics,
      log: this.log,
    } = options);
  }

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
    ack?: Ack,
    settled?: Ack,
  ): void {
    this.link.publish(topic, payload, qos, props, (error) => {
      if (error !== undefined) {
        this.metrics.publishFailures.inc();
        // A refusal is logged (and counted by reason) where it is decided, in the MQTT link.
        if (!(error instanceof PublishRefusedError))
          this.log.error({ topic, err: error }, 'mqtt publish failed');
        failed?.(error);
      } else {
        this.metrics.publishDuration.observe((performance.now() - startedAt) / 1000);
      }
      ack?.();
      settled?.();
    });
  }

  /**
   * `failed` runs when the broker refused the publish or the backlog was full. The charge-point
   * frames return false, publishing nothing, when the frame cannot be encoded (envelope.ts).
   * `settled` runs once the publish is over, whatever its outcome (a socket's share of the
   * backlog, edge/publish-share.ts); not when false is returned.
   */
  call(
    origin: Origin,
    frame: CallFrame | SendFrame,
    payloadText: string | undefined,
    receivedAt: number,
    startedAt: number,
    failed: (error: Error) => void,
    settled?: Ack,
  ): boolean {
    const payload = callPayload(frame, payloadText);
    if (payload === undefined) return false;
    const isCall = frame[0] === 2;
    this.metrics.message('upstream', isCall ? 'call' : 'send', frame[2]);
    const topic = this.topics.call(origin.cid, frame[2], frame[1], origin.protoVer, isCall ? '2' : '6');
    const body = withVersionKey(payload, this.topics.payloadVersionKey, origin.protoVer);
    this.send(topic, body, this.qos, this.props(origin, receivedAt), startedAt, failed, undefined, settled);
    return true;
  }

  callResult(
    origin: Origin,
    frame: CallResultFrame,
    payloadText: string | undefined,
    action: string | undefined,
    receivedAt: number,
    startedAt: number,
    ack?: Ack,
    settled?: Ack,
  ): boolean {
    const payload = callResultPayload(frame, action, payloadText);
    if (payload === undefined) return false;
    this.metrics.message('upstream', 'callresult', action);
    const topic = this.topics.callResult(origin.cid, frame[1], origin.protoVer);
    const props = this.props(origin, receivedAt);
    const body = withVersionKey(payload, this.topics.payloadVersionKey, origin.protoVer);
    this.send(topic, body, this.qos, props, startedAt, undefined, ack, settled);
    return true;
  }

  callError(
    origin: Origin,
    frame: CallErrorFrame | CallResultErrorFrame,
    action: string | undefined,
    receivedAt: number,
    startedAt: number,
    ack?: Ack,
    settled?: Ack,
  ): boolean {
    const payload = callErrorPayload(frame, action);
    if (payload === undefined) return false;
    const isCallError = frame[0] === 4;
    this.metrics.message('upstream', isCallError ? 'callerror' : 'callresulterror', action);
    const topic = this.topics.callError(origin.cid, frame[1], origin.protoVer, isCallError ? '4' : '5');
    const props = this.props(origin, receivedAt);
    const body = withVersionKey(payload, this.topics.payloadVersionKey, origin.protoVer);
    this.send(topic, body, this.qos, props, startedAt, undefined, ack, settled);
    return true;
  }

  /**
   * The gateway's answer for a downstream CALL that cannot end normally, so that no command ends
   * in silence (docs/architecture.md §3.4; payload §2.7): a CALLERROR on the charge point's error topic with origin and reason.
   */
  gatewayError(reply: GatewayErrorReply): void {
    const { cid, uniqueId, action, reason, errorCode, description, ack, protoVer } = reply;
    this.metrics.commandFailed(reason);
    const now = Date.now();
    const props: UserProperties = {
      origin: 'gateway',
      'gateway-node': this.nodeId,
      'received-at': String(now),
    };
    const payload = gatewayErrorPayload(uniqueId, action, reason, errorCode, description);
    const topic = this.topics.callError(cid, uniqueId, protoVer ?? UNKNOWN_VERSION);
    this.send(topic, payload, this.qos, props, performance.now(), undefined, ack);
    this.log.info({ cpId: cid, msgId: uniqueId, action, reason }, 'downstream command answered by gateway');
  }

  /**
   * A downstream message that did not reach its charge point, never dropped in silence
   * (docs/architecture.md §3.4; diagnostics §2.9). A
   * CALL is answered with a gateway error reply; a CALLRESULT/CALLERROR has no Reply topic to go
   * to, so it is counted and reported on the diagnostics topic.
   */
  undelivered(
    cid: string,
    messageTypeId: 2 | 3 | 4 | 5 | 6,
    uniqueId: string,
    action: string | undefined,
    reason: GatewayReason,
    ack?: Ack,
    protoVer?: string,
  ): void {
    const description = `command not delivered: ${reason}`;
    if (messageTypeId === 2) {
      // `GenericError` is spelled alike in every version; `protoVer` fills the topic's ${version}.
      const errorCode = DEFAULT_VERSION.errorCodes.generic;
      this.gatewayError({ cid, uniqueId, action, reason, errorCode, description, ack, protoVer });
      return;
    }
    this.metrics.commandFailed(reason);
    this.diagnostic({ reason, cid, uniqueId, messageTypeId }, ack);
  }

  presence(
    cid: string,
    event: 'connected' | 'disconnected',
    body: Record<string, unknown>,
    protoVer: string,
  ): void {
    const topic = this.topics.presenceTopic(cid, event, protoVer);
    if (topic === undefined) return;
    const props: UserProperties = { origin: 'gateway', 'gateway-node': this.nodeId };
    this.send(topic, JSON.stringify(body), 1, props, performance.now());
  }

  /** Reports what cannot be answered on a Reply topic (a downstream message with no usable id). */
  diagnostic(body: Record<string, unknown>, ack?: Ack): void {
    const props: UserProperties = { origin: 'gateway', 'gateway-node': this.nodeId };
    this.send(
      this.topics.diagnosticsTopic,
      JSON.stringify({ node: this.nodeId, at: new Date().toISOString(), ...body }),
      1,
      props,
      performance.now(),
      undefined,
      ack,
    );
  }
}
