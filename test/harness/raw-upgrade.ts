import { connect, type Socket } from 'node:net';

/** An upgrade answer read off a raw TCP socket; `socket` stays open after a 101. */
export interface RawAnswer {
  readonly status: number;
  /** Lower-case names; repeated lines joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  readonly socket: Socket;
}

export interface RawUpgradeOptions {
  /** `Sec-WebSocket-Version` value; null leaves the line out. @default '13' */
  readonly version?: string | null;
  /** One `Sec-WebSocket-Protocol` line per entry. @default ['ocpp1.6'] */
  readonly protocolLines?: readonly string[];
  /** More header lines, each without CRLF. */
  readonly extraLines?: readonly string[];
  readonly timeoutMs?: number;
}

/**
 * A WebSocket upgrade written byte for byte, for what `ws` will not send: raw bytes in the
 * request target, another WebSocket version, repeated header lines, oversized heads.
 */
export function upgradeRequest(target: string | Buffer, options: RawUpgradeOptions = {}): Buffer {
  const lines = [
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  ];
  const version = options.version === undefined ? '13' : options.version;
  if (version !== null) lines.push(`Sec-WebSocket-Version: ${version}`);
  for (const p of options.protocolLines ?? ['ocpp1.6']) lines.push(`Sec-WebSocket-Protocol: ${p}`);
  lines.push(...(options.extraLines ?? []));
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  const path = typeof target === 'string' ? Buffer.from(target, 'latin1') : target;
  return Buffer.concat([Buffer.from('GET '), path, Buffer.from(` HTTP/1.1\r\n${head}`)]);
}

/**
 * Sends `request` (several pieces 50 ms apart, when given a list) and resolves with the answer;
 * rejects on timeout or a connection error.
 */
export function sendRaw(
  port: number,
  request: Buffer | readonly Buffer[],
  timeoutMs = 3000,
): Promise<RawAnswer> {
  const pieces = Buffer.isBuffer(request) ? [request] : request;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      pieces.forEach((piece, i) => setTimeout(() => socket.writable && socket.write(piece), i * 50));
    });
    let data = Buffer.alloc(0);
    let answer: { status: number; headers: Map<string, string>; bodyAt: number; length: number } | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no upgrade answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (body: string): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (answer === undefined) return;
      if (answer.status !== 101) socket.destroy();
      resolve({ status: answer.status, headers: answer.headers, body, socket });
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (answer === undefined) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine = '', ...headerLines] = data.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map<string, string>();
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).trim().toLowerCase();
          const value = line.slice(colon + 1).trim();
          const previous = headers.get(name);
          headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
        }
        const status = Number(statusLine.split(' ')[1]);
        const length = status === 101 ? 0 : Number(headers.get('content-length') ?? 'NaN');
        answer = { status, headers, bodyAt: end + 4, length };
      }
      const body = data.subarray(answer.bodyAt);
      if (Number.isFinite(answer.length) && body.length >= answer.length) finish(body.toString());
    });
    socket.once('close', () => {
      if (answer !== undefined) finish(data.subarray(answer.bodyAt).toString());
      else {
        clearTimeout(timer);
        reject(new Error(`connection closed without an answer: ${data.toString('latin1')}`));
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** {@link upgradeRequest} + {@link sendRaw}. */
export function rawUpgrade(
  port: number,
  target: string | Buffer,
  options: RawUpgradeOptions = {},
): Promise<RawAnswer> {
  return sendRaw(port, upgradeRequest(target, options), options.timeoutMs);
}
