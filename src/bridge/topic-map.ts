import type { Config } from '../config/index.js';
import { TopicTemplate } from './topic-template.js';

/**
 * Every MQTT topic the gateway uses, built from the mountpoint and templates (docs/architecture.md §2.4, EMQX
 * `upstream.*`/`dnstream.*`). The mountpoint is prepended by plain concatenation, as EMQX does.
 */
export class TopicMap {
  private readonly mount: string;
  private readonly upstream: TopicTemplate;
  private readonly overrides: ReadonlyMap<string, TopicTemplate>;
  private readonly reply: TopicTemplate;
  private readonly error: TopicTemplate;
  private readonly presence: TopicTemplate | undefined;
  /** Downstream filter split into levels; `cidLevel` is where the charge-point id sits. */
  private readonly downLevels: readonly string[];
  private readonly cidLevel: number;
  readonly downstreamFilter: string;
  readonly diagnosticsTopic: string;
  /** OCPP_GW_PAYLOAD_VERSION_KEY (docs/architecture.md §2.6); undefined: EMQX's payload as it is. */
  readonly payloadVersionKey: string | undefined;

  constructor(topics: Config['topics']) {
    this.mount = topics.mountpoint;
    this.payloadVersionKey = topics.payloadVersionKey;
    this.upstream = new TopicTemplate(topics.upstream);
    // EMQX's override lookup never matches (atom vs binary keys, docs/architecture.md §7.10); ours does.
    this.overrides = new Map(
      Object.entries(topics.upstreamOverrides).map(([a, t]) => [a, new TopicTemplate(t)]),
    );
    this.reply = new TopicTemplate(topics.reply);
    this.error = new TopicTemplate(topics.error);
    this.presence = topics.presence === undefined ? undefined : new TopicTemplate(topics.presence);
    this.diagnosticsTopic = this.mount + topics.diagnostics;
    const filter = this.mount + topics.downstream.replace(/\$\{(cid|clientid)\}/g, '+');
    this.downstreamFilter = filter;
    const marked = this.mount + topics.downstream.replace(/\$\{(cid|clientid)\}/g, '\0');
    this.downLevels = marked.split('/');
    this.cidLevel = this.downLevels.indexOf('\0');
  }

  /** A CALL, or a 2.1 SEND (`type` 6), which shares the CALL topic. */
  call(cid: string, action: string, uniqueId: string, version: string, type: '2' | '6' = '2'): string {
    const template = this.overrides.get(action) ?? this.upstream;
    return this.mount + template.render({ cid, clientid: cid, action, id: uniqueId, type, version });
  }

  callResult(cid: string, uniqueId: string, version: string): string {
    return this.mount + this.reply.render({ cid, clientid: cid, id: uniqueId, type: '3', version });
  }

  /** A CALLERROR, or a 2.1 CALLRESULTERROR (`type` 5), which shares the error topic. */
  callError(cid: string, uniqueId: string, version: string, type: '4' | '5' = '4'): string {
    return this.mount + this.error.render({ cid, clientid: cid, id: uniqueId, type, version });
  }

  presenceTopic(cid: string, event: 'connected' | 'disconnected', version: string): string | undefined {
    return this.presence === undefined
      ? undefined
      : this.mount + this.presence.render({ cid, clientid: cid, event, version });
  }

  /** The shared subscription every node makes once (MQTT 5 §4.8.2, `$share/{group}/{filter}`). */
  sharedFilter(group: string | undefined): string {
    return group === undefined ? this.downstreamFilter : `$share/${group}/${this.downstreamFilter}`;
  }

  /** Reads the charge-point id out of a downstream topic; undefined if the topic does not fit. */
  cidFromDownstream(topic: string): string | undefined {
    const levels = topic.split('/');
    const pattern = this.downLevels;
    const trailingHash = pattern[pattern.length - 1] === '#';
    if (trailingHash ? levels.length < pattern.length - 1 : levels.length !== pattern.length)
      return undefined;
    for (let i = 0; i < pattern.length; i++) {
      const want = pattern[i];
      if (want === '#') break;
      if (want !== '\0' && want !== '+' && want !== levels[i]) return undefined;
    }
    const cid = levels[this.cidLevel];
    return cid === undefined || cid === '' ? undefined : cid;
  }
}
