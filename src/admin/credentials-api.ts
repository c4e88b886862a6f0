import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeRecord, isProfile, setSecret, type SecurityProfile } from '../auth/record.js';
import { generatePassword, secretProblem } from '../auth/secret.js';
import type { CredentialStore } from '../auth/store.js';

const PREFIX = '/api/v1/credentials/';
const MAX_BODY_BYTES = 4096;

/** The body of `PUT /api/v1/credentials/{cid}`: one way to give the secret, and the profile. */
interface PutBody {
  readonly password?: unknown;
  readonly generate?: unknown;
  readonly profile?: unknown;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The credentials CLI's operations on the admin API (behind its bearer token):
 * `GET /api/v1/credentials/{cid}` (profile and dates, never the secret), `PUT` with
 * `{"generate": true}` or `{"password": "..."}` and an optional `"profile"` (the generated
 * password is in the answer, once), `DELETE`. Against the node's own store, file or Redis.
 */
export class CredentialsApi {
  constructor(
    private readonly store: CredentialStore,
    private readonly changed: (cid: string) => void,
  ) {}

  static matches(path: string): boolean {
    return path.startsWith(PREFIX);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    let cid: string;
    try {
      cid = decodeURIComponent(path.slice(PREFIX.length));
    } catch {
      reply(res, 400, { error: 'bad_percent_encoding' });
      return;
    }
    if (cid === '') return reply(res, 404, { error: 'not_found' });
    try {
      if (req.method === 'GET') {
        const record = await this.store.get(cid);
        if (record === undefined) reply(res, 404, { error: 'not_found', clientid: cid });
        else reply(res, 200, describeRecord(cid, record));
      } else if (req.method === 'DELETE') {
        const deleted = await this.store.delete(cid);
        this.changed(cid);
        if (deleted) res.writeHead(204).end();
        else reply(res, 404, { error: 'not_found', clientid: cid });
      } else if (req.method === 'PUT') {
        await this.put(req, res, cid);
      } else {
        res.writeHead(405, { Allow: 'GET, PUT, DELETE' }).end();
      }
    } catch {
      reply(res, 503, { error: 'store_unavailable', clientid: cid });
    }
  }

  private async put(req: IncomingMessage, res: ServerResponse, cid: string): Promise<void> {
    const text = await readBody(req);
    let body: PutBody;
    try {
      body = JSON.parse(text ?? '') as PutBody;
    } catch {
      return reply(res, 400, { error: 'bad_body', fix: 'JSON {"generate": true} or {"password": "..."}' });
    }
    const profile: SecurityProfile | undefined = isProfile(body.profile) ? body.profile : undefined;
    if (body.profile !== undefined && profile === undefined) return reply(res, 400, { error: 'bad_profile' });
    const generated = body.generate === true ? generatePassword() : undefined;
    const password = generated ?? (typeof body.password === 'string' ? body.password : undefined);
    if (password === undefined || (generated !== undefined && body.password !== undefined))
      return reply(res, 400, { error: 'bad_body', fix: 'exactly one of "generate": true or "password"' });
    const secret = Buffer.from(password, 'utf8');
    const problem = secretProblem(secret);
    if (problem !== undefined) return reply(res, 400, { error: 'bad_password', problem });
    const record = await this.store.update(cid, (current) => setSecret(current, secret, profile));
    this.changed(cid);
    if (record === undefined) return reply(res, 503, { error: 'store_unavailable', clientid: cid });
    reply(res, 200, {
      ...describeRecord(cid, record),
      ...(generated === undefined ? {} : { password: generated }),
    });
  }
}
