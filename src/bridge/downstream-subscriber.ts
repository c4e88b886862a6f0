import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Ack, Delivery, DownstreamMessage, Release } from '../ocpp/message.js';
import { DOWNSTREAM_PROBLEMS, parseDownstream } from './envelope.js';
import type { MqttLink } from './mqtt-link.js';
import type { TopicMap } from './topic-map.js';
import type { UpstreamPublisher } from './upstream-publisher.js';
import { malformedCommandCode, type OcppVersion } from '../ocpp/versions/index.js';

/**
 * `delivery.ack` acknowledges the MQTT message: call it once the outcome is published.
 * `delivery.redelivered` is the MQTT DUP flag: the broker sent this before, so it may already
 * have reached the CP.
 */
export type RouteCommand = (cid: string, message: DownstreamMessage, delivery: Delivery) => void;

/**
 * The version of the charge point's session: at once when it is on this node, from its owner
 * entry when another node holds it (cluster mode), none when it is not connected.
 */
export type VersionLookup = (cid: string) => OcppVersion | undefined | Promise<OcppVersion | undefined>;

/**
 * The node's one downstream subscription (docs/architecture.md §2.4): `$share/{group}/{mount}cs/+` at QoS 1 with
 * MQTT 5, the plain filter on the embedded broker. Each message names its charge point in the
 * topic; malformed ones are answered (usable id on a CALL) or reported on the diagnostics topic,
 * never dropped in silence (EMQX drops them, docs/architecture.md §7.8; rules §2.5).
 */
export class DownstreamSubscriber {
  private versionOf: VersionLookup = () => undefined;
  private holding = false;

  constructor(
    private readonly link: MqttLink,
    private readonly topics: TopicMap,
    private readonly publisher: UpstreamPublisher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    // Labelled counters start at 0 for every known label (docs/architecture.md §6.5).
    for (const problem of DOWNSTREAM_PROBLEMS) metrics.downstreamMalformed.labels(problem).inc(0);
  }

  /**
   * `subscribe` false (OCPP_GW_DOWNSTREAM_SUBSCRIBE, docs/architecture.md §5.14): the node takes no
   * commands from the broker; it unsubscribes the filter in case the session it resumed still
   * holds it, and routes whatever that session had already queued. Returns the filter held.
   * `versionOf` names a local station's OCPP version, to spell a malformed command's error code.
   */
  async start(
    sharedGroup: string | undefined,
    route: RouteCommand,
    subscribe = true,
    versionOf?: VersionLookup,
  ): Promise<string | undefined> {
    if (versionOf !== undefined) this.versionOf = versionOf;
    const filter = this.topics.sharedFilter(sharedGroup);
    this.link.onMessage((topic, payload, packet, ack, release) => {
      if (this.holding) release();
      else this.handle(topic, payload, packet.dup, ack, route, release);
    });
    if (!subscribe) {
      await this.link.unsubscribe(filter).catch((err: unknown) => {
        this.log.warn({ err, filter }, 'downstream unsubscribe at start failed');
      });
      this.log.info({ filter }, 'downstream subscription off: sockets and route bus only');
      return undefined;
    }
    await this.link.subscribe(filter, 1);
    this.log.info({ filter }, 'downstream subscription active');
    return filter;
  }

  /**
   * A draining node that keeps its session (OCPP_GW_DRAIN_UNSUBSCRIBE=false): from now on a message
   * is neither handled nor acknowledged, so the broker keeps it in the session and sends it again
   * when the node is back under the same client id ([MQTT-4.4.0-1]).
   */
  hold(): void {
    this.holding = true;
  }

  /** Also used for the messages of an adopted session (cluster/session-adopter.ts). */
  handle(
    topic: string,
    payload: Buffer,
    dup: boolean,
    ack: Ack,
    route: RouteCommand,
    release?: Release,
    live?: () => boolean,
  ): void {
    const cid = this.topics.cidFromDownstream(topic);
    if (cid === undefined) {
      this.malformed('bad_topic', { topic }, ack);
      return;
    }
    const parsed = parseDownstream(payload);
    if (parsed.ok) {
      route(cid, parsed.message, { ack, redelivered: dup, release, live });
      return;
    }
    if (parsed.uniqueId !== undefined && parsed.messageTypeId === 2) {
      // A CALL the backend waits on: answer it on the Reply topic like any other failed command,
      // with the code spelled as the charge point's version spells it.
      this.metrics.downstreamMalformed.labels(parsed.problem).inc();
      const { uniqueId } = parsed;
      const reply = (version: OcppVersion | undefined): void =>
        this.publisher.gatewayError({
          cid,
          uniqueId,
          action: parsed.action,
          reason: 'malformed',
          errorCode: malformedCommandCode(version),
          protoVer: version?.protoVer,
          description: `downstream message rejected: ${parsed.problem}`,
          ack,
        });
      const version = this.versionOf(cid);
      // Redis unreachable: the default spelling rather than no answer.
      if (version instanceof Promise) version.then(reply, () => reply(undefined));
      else reply(version);
      return;
    }
    const context = { topic, cid, uniqueId: parsed.uniqueId, messageTypeId: parsed.messageTypeId };
    this.malformed(parsed.problem, context, ack);
  }

  private malformed(problem: string, context: Record<string, unknown>, ack: Ack): void {
    this.metrics.downstreamMalformed.labels(problem).inc();
    this.log.warn({ ...context, problem }, 'malformed downstream message');
    this.publisher.diagnostic({ reason: 'malformed', problem, ...context }, ack);
  }
}
