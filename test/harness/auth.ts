import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const CREDENTIALS_JS = fileURLToPath(new URL('../../src/credentials-cli.js', import.meta.url));

/** `Authorization: Basic` with a password that may be raw bytes (a 1.6 AuthorizationKey). */
export function basic(user: string, password: string | Buffer): string {
  const secret = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  return `Basic ${Buffer.concat([Buffer.from(`${user}:`, 'utf8'), secret]).toString('base64')}`;
}

export interface Attempt {
  readonly status: number;
  readonly body: string;
  readonly wwwAuthenticate: string | undefined;
  /** Open after a 101; the caller closes it. */
  readonly ws: WebSocket | undefined;
}

/** One upgrade with the given headers; resolves with the status (101 or the refusal). */
export function attempt(
  url: string,
  headers: Record<string, string> = {},
  protocols = ['ocpp1.6'],
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {},
): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, ...tls });
    ws.once('open', () => resolve({ status: 101, body: '', wwwAuthenticate: undefined, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          wwwAuthenticate: res.headers['www-authenticate'],
          ws: undefined,
        }),
      );
    });
    ws.once('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}

/** Runs the credentials CLI (`npm run credentials` runs the same file) with `env`; stdout parsed as JSON. */
export function credentials(
  args: readonly string[],
  env: Record<string, string>,
  stdin?: string | Buffer,
): Promise<{ code: number | null; json: Record<string, unknown> | undefined; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CREDENTIALS_JS, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim();
      resolve({
        code,
        json: line === '' ? undefined : (JSON.parse(line) as Record<string, unknown>),
        stderr: err,
      });
    });
    child.stdin.end(stdin);
  });
}

/** The value of one series in a Prometheus text exposition (0 when absent). */
export function series(metrics: string, name: string): number {
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  }
  return 0;
}

/** A station's answer to every downstream CALL it gets: `status` (Accepted unless told otherwise). */
export function answerAll(ws: WebSocket, status = 'Accepted'): void {
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    if (frame[0] === 2) ws.send(JSON.stringify([3, frame[1], { status }]));
  });
}

/** A 1.6 ChangeConfiguration as the backend publishes it on `ocpp/cs/{cid}`. */
export const changeConfiguration = (
  uniqueId: string,
  key: string,
  value: string,
): Record<string, unknown> => ({
  MessageTypeId: 2,
  UniqueId: uniqueId,
  Action: 'ChangeConfiguration',
  Payload: { key, value },
});

/** Polls `read` every 100 ms until `done` holds (or throws after `timeoutMs`). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
