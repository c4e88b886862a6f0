import WebSocket from 'ws';

/** A charge point made of a real `ws` client, with a message inbox for assertions. */
export class ChargePoint {
  readonly inbox: unknown[] = [];
  readonly rawInbox: string[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : (data as Buffer).toString();
      this.rawInbox.push(text);
      this.inbox.push(JSON.parse(text));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w();
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(
    url: string,
    protocols: string[] = ['ocpp1.6'],
    headers: Record<string, string> = {},
    options: WebSocket.ClientOptions = {},
  ): Promise<ChargePoint> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { ...options, headers });
      const cp = new ChargePoint(ws);
      ws.once('open', () => resolve(cp));
      ws.once('unexpected-response', (_req, res) => reject(new UpgradeRejected(res.statusCode ?? 0)));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for the next message matching `predicate` (consumes it from the inbox). */
  async next(predicate: (m: unknown) => boolean = () => true, timeoutMs = 3000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex(predicate);
      if (index >= 0) return this.inbox.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0 || this.closed !== undefined)
        throw new Error(`no matching message within ${timeoutMs} ms; inbox ${JSON.stringify(this.inbox)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed !== undefined) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`socket not closed within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        if (this.closed !== undefined) resolve(this.closed);
      });
    });
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000);
    return this.waitClose();
  }
}

export class UpgradeRejected extends Error {
  constructor(readonly status: number) {
    super(`upgrade rejected with HTTP ${status}`);
  }
}

/** Status code of an upgrade attempt (101 when accepted), and the negotiated protocol. */
export function tryUpgrade(
  url: string,
  protocols: string[] = ['ocpp1.6'],
): Promise<{ status: number; protocol: string; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      const protocol = ws.protocol;
      ws.terminate();
      resolve({ status: 101, protocol, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, protocol: '', body }));
    });
    ws.once('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}
