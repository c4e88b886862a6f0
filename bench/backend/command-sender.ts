import type { MqttClient } from 'mqtt';
import { LatencyHistogram } from '../lib/histogram.js';
import { DOWNSTREAM_PREFIX, UPSTREAM_PREFIX } from './responder.js';

const TICK_MS = 20;
const REPLY_SUFFIX = '/Reply';

export interface CommandSenderOptions {
  readonly ratePerS: number;
  readonly action: string;
  /** Pre-serialised payload object. */
  readonly payloadJson: string;
  readonly timeoutMs: number;
  /** Commands per station in all; 0 for no limit. */
  readonly perStationLimit: number;
}

/** Command round-trip figures, in the stats line and on `GET /stats`. */
export interface CommandStats {
  sent: number;
  /** CALLRESULTs from the station. */
  answered: number;
  /** CALLERRORs on the Reply topic (the station's or the gateway's own, e.g. `offline`). */
  errorReplied: number;
  errorReasons: Record<string, number>;
  /** No reply within the timeout. Must stay 0. */
  lost: number;
  pending: number;
  /** Replies whose UniqueId was not pending: duplicates, or after the timeout. */
  unknownReplies: number;
  /** Ticks' worth of commands not sent because every known station had one in flight. */
  skippedBusy: number;
  publishErrors: number;
  p50Ms: number | undefined;
  p90Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number;
}

interface Pending {
  readonly cid: string;
  readonly sentAt: number;
}

/**
 * Sends downstream CALLs on `ocpp/cs/{cid}` at a steady rate to the stations the responder has
 * seen, at most one in flight per station (OCPP-J 1.6 §4.1.1: one outstanding CALL per
 * direction), and times each until its reply on `ocpp/cp/{cid}/Reply` on this process's
 * monotonic clock.
 */
export class CommandSender {
  private readonly pending = new Map<string, Pending>();
  private readonly busy = new Set<string>();
  private readonly sentPerStation = new Map<string, number>();
  private readonly histogram = new LatencyHistogram();
  private readonly counts = {
    sent: 0,
    answered: 0,
    errorReplied: 0,
    lost: 0,
    unknownReplies: 0,
    skippedBusy: 0,
    publishErrors: 0,
    maxMs: 0,
  };
  private readonly errorReasons: Record<string, number> = {};
  private ticker: NodeJS.Timeout | undefined;
  private budget = 0;
  private cursor = 0;
  private seq = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly stations: readonly string[],
    private readonly options: CommandSenderOptions,
    private readonly onOffline: (cid: string) => void = () => undefined,
  ) {}

  async listen(filterPrefix: string): Promise<void> {
    this.client.on('message', (topic, payload) => {
      if (topic.startsWith(UPSTREAM_PREFIX) && topic.endsWith(REPLY_SUFFIX)) this.onReply(payload);
    });
    await this.client.subscribeAsync(`${filterPrefix}${UPSTREAM_PREFIX}+${REPLY_SUFFIX}`, { qos: 1 });
  }

  startSending(): void {
    let last = performance.now();
    this.ticker = setInterval(() => {
      const now = performance.now();
      this.budget = Math.min(
        this.budget + ((now - last) / 1000) * this.options.ratePerS,
        this.options.ratePerS,
      );
      last = now;
      while (this.budget >= 1) {
        this.budget--;
        if (!this.sendOne()) {
          this.counts.skippedBusy++;
          this.budget = 0;
        }
      }
      this.expire(now);
    }, TICK_MS);
  }

  /** Stops sending and waits (up to the command timeout) for what is in flight; the rest is lost. */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    const until = performance.now() + this.options.timeoutMs;
    while (this.pending.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.expire(Number.POSITIVE_INFINITY);
  }

  stats(): CommandStats {
    const ms = (p: number): number | undefined => {
      const micros = this.histogram.percentile(p);
      return micros === undefined ? undefined : Math.round(micros) / 1000;
    };
    return {
      ...this.counts,
      errorReasons: { ...this.errorReasons },
      pending: this.pending.size,
      p50Ms: ms(50),
      p90Ms: ms(90),
      p99Ms: ms(99),
    };
  }

  /** Round-robin over the known stations, skipping those with a command in flight or at the limit. */
  private sendOne(): boolean {
    const limit = this.options.perStationLimit;
    for (let tried = 0; tried < this.stations.length; tried++) {
      const cid = this.stations[this.cursor++ % this.stations.length]!;
      if (this.busy.has(cid)) continue;
      const sentBefore = this.sentPerStation.get(cid) ?? 0;
      if (limit > 0 && sentBefore >= limit) continue;
      this.sentPerStation.set(cid, sentBefore + 1);
      const uniqueId = `bb${process.pid}-${this.seq++}`;
      this.busy.add(cid);
      this.pending.set(uniqueId, { cid, sentAt: performance.now() });
      this.counts.sent++;
      const message = `{"MessageTypeId":2,"UniqueId":"${uniqueId}","Action":${JSON.stringify(this.options.action)},"Payload":${this.options.payloadJson}}`;
      this.client.publish(`${DOWNSTREAM_PREFIX}${cid}`, message, { qos: 1 }, (err) => {
        if (err instanceof Error) this.counts.publishErrors++;
      });
      return true;
    }
    return false;
  }

  private onReply(payload: Buffer): void {
    const now = performance.now();
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.counts.unknownReplies++;
      return;
    }
    const id = reply.UniqueId;
    const command = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (command === undefined || typeof id !== 'string') {
      this.counts.unknownReplies++;
      return;
    }
    this.pending.delete(id);
    this.busy.delete(command.cid);
    if (reply.MessageTypeId === 3) {
      this.counts.answered++;
      const micros = (now - command.sentAt) * 1000;
      this.histogram.record(micros);
      this.counts.maxMs = Math.max(this.counts.maxMs, Math.round(micros) / 1000);
      return;
    }
    this.counts.errorReplied++;
    const details = reply.ErrorDetails as { reason?: unknown } | undefined;
    const reason = typeof details?.reason === 'string' ? details.reason : String(reply.ErrorCode);
    this.errorReasons[reason] = (this.errorReasons[reason] ?? 0) + 1;
    if (reason === 'offline') this.onOffline(command.cid);
  }

  private expire(now: number): void {
    // The map keeps send order, so the first command that is not yet due ends the sweep.
    for (const [id, command] of this.pending) {
      if (now - command.sentAt < this.options.timeoutMs) break;
      this.pending.delete(id);
      this.busy.delete(command.cid);
      this.counts.lost++;
    }
  }
}
