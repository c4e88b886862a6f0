import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import type { EventLog } from './event-log.js';

/** What every station of a process shares: the live node URLs, the log, the knobs. */
export interface StationContext {
  urls: (string | null)[];
  readonly log: EventLog;
  readonly answerDelayMs: number;
  readonly upstreamTimeoutMs: number;
  /** False once the runner said `quiet`: no new upstream CALLs, no reconnects after close. */
  running: boolean;
  closing: boolean;
  counts: { connects: number; closes: number; reconnectFailures: number };
}

const OCPP16 = 'ocpp1.6';

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

/**
 * One simulated OCPP 1.6 station: answers every downstream CALL with a CALLRESULT after a random
 * delay up to `answerDelayMs`, logs each CALL it reads (UniqueId and the backend's seq from
 * `Payload.data`), keeps one upstream DataTransfer in flight when asked, and reconnects to another
 * live node whenever its socket closes.
 */
export class Station {
  private ws: WebSocket | undefined;
  private node = -1;
  private upCount = 0;
  /** The upstream CALL in flight and the socket it was written on. */
  private upPending: { uid: string; timer: NodeJS.Timeout; ws: WebSocket | undefined } | undefined;
  /** Set by a `hop`: the next CALL read moves the station to another node before it is answered. */
  hopOnNextCall = false;
  private hopping: Promise<void> | undefined;

  constructor(
    readonly index: number,
    readonly id: string,
    private readonly ctx: StationContext,
  ) {}

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens a socket to `node`; resolves once it is open (it becomes the station's socket). */
  connect(node: number): Promise<void> {
    const url = this.ctx.urls[node];
    if (url === null || url === undefined) return Promise.reject(new Error(`node ${node} is down`));
    const ws = new WebSocket(`${url}${encodeURIComponent(this.id)}`, OCPP16, {
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        const old = this.ws;
        this.ws = ws;
        this.node = node;
        this.ctx.counts.connects++;
        // The gateway closes the old socket (newest wins) and answers what it wrote there.
        if (old !== undefined && old !== ws) setTimeout(() => old.terminate(), 2000);
        resolve();
      });
      ws.on('message', (data) => this.onMessage(ws, data));
      ws.once('error', (err) => reject(err));
      ws.once('close', () => {
        reject(new Error('closed before open'));
        // A CALL written on a socket that closed unanswered is the station's to send again, even
        // when the station had moved meanwhile: the node that read it may die before publishing
        // it, and no answer can come back over a closed socket (OCPP-J: a CALL's outcome is
        // unknown once its connection is gone).
        if (this.upPending?.ws === ws) this.abandonUpstream();
        if (this.ws !== ws) return;
        this.ctx.counts.closes++;
        this.abandonUpstream();
        void this.reconnect();
      });
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.ctx.closing; attempt++) {
      await new Promise((r) => setTimeout(r, 100 + Math.random() * Math.min(2000, 200 * attempt)));
      if (this.connected || this.ctx.closing) return;
      const live = this.liveNodes().filter((i) => i !== this.node);
      const target = live[(this.index + attempt) % Math.max(1, live.length)] ?? this.node;
      try {
        await this.connect(target);
        return;
      } catch {
        this.ctx.counts.reconnectFailures++;
      }
    }
  }

  private liveNodes(): number[] {
    return this.ctx.urls.flatMap((u, i) => (u === null ? [] : [i]));
  }

  /** Moves to `node` (or another live node): the new socket replaces the old one. */
  async moveTo(node?: number): Promise<void> {
    const others = this.liveNodes().filter((i) => i !== this.node);
    const target = node ?? others[Math.floor(Math.random() * others.length)];
    if (target === undefined || target === this.node) return;
    await this.connect(target).catch(() => undefined);
  }

  /** The reader stops for `ms`: the gateway's writes pile up in the TCP buffers. */
  stall(ms: number): void {
    const raw = (this.ws as unknown as { _socket?: Socket } | undefined)?._socket;
    raw?.pause();
    setTimeout(() => raw?.resume(), ms);
  }

  private onMessage(ws: WebSocket, data: RawData): void {
    let frame: unknown[];
    try {
      frame = JSON.parse(textOf(data)) as unknown[];
    } catch {
      return;
    }
    const [type, uid] = frame;
    if (typeof uid !== 'string') return;
    if (type === 2) {
      const payload = frame[3] as { data?: string } | undefined;
      this.ctx.log.add({ k: 'C', t: Date.now(), cid: this.id, uid, seq: Number(payload?.data) });
      if (this.hopOnNextCall && this.hopping === undefined) {
        this.hopOnNextCall = false;
        this.hopping = this.moveTo().finally(() => (this.hopping = undefined));
      }
      const answer = (): void => {
        const target = this.ws ?? ws;
        if (target.readyState === WebSocket.OPEN) target.send(`[3,"${uid}",{"status":"Accepted"}]`);
      };
      const delay = Math.random() * this.ctx.answerDelayMs;
      const hop = this.hopping;
      setTimeout(() => (hop === undefined ? answer() : void hop.then(answer)), delay);
    } else if ((type === 3 || type === 4) && this.upPending?.uid === uid) {
      this.endUpstream(type === 3 ? 'a' : 'e');
    }
  }

  /** Sends the next upstream DataTransfer unless one is still in flight. */
  sendUpstream(): void {
    if (!this.ctx.running || this.upPending !== undefined || !this.connected) return;
    const uid = `u${this.upCount++}.${this.id}`;
    const timer = setTimeout(() => this.endUpstream('w'), this.ctx.upstreamTimeoutMs);
    this.upPending = { uid, timer, ws: this.ws };
    this.ctx.log.add({ k: 'u', t: Date.now(), cid: this.id, uid });
    this.ws?.send(`[2,"${uid}","DataTransfer",{"vendorId":"chaos","data":"${this.upCount}"}]`);
  }

  private endUpstream(kind: 'a' | 'e' | 'w' | 'x'): void {
    const pending = this.upPending;
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.upPending = undefined;
    this.ctx.log.add({ k: kind, t: Date.now(), uid: pending.uid });
  }

  private abandonUpstream(): void {
    this.endUpstream('x');
  }

  close(): void {
    this.ws?.terminate();
  }
}
