import { isProfile, type SecurityProfile } from './record.js';

/** The webhook's answer: allowed (at a profile) or denied. */
export type WebhookVerdict =
  { readonly allow: true; readonly profile: SecurityProfile } | { readonly allow: false };

export interface WebhookRequest {
  readonly cid: string;
  readonly username: string;
  readonly password: Buffer;
  readonly peerAddress: string;
  readonly tls: boolean;
}

/**
 * An HTTP authentication webhook (OCPP_GW_AUTH_HTTP_URL), shaped like EMQX's HTTP authn: a JSON
 * POST of the credentials, answered `200 {"result": "allow" | "deny", "profile"?: 1|2|3}`. A
 * 4xx is a denial. A 5xx, a network error or no answer within the timeout throws: the caller
 * refuses the station (fails closed), it never lets it in.
 */
export class HttpVerifier {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async verify(request: WebhookRequest): Promise<WebhookVerdict> {
    const text = request.password.toString('utf8');
    const body = {
      clientid: request.cid,
      username: request.username,
      // Binary-safe: a raw 1.6 AuthorizationKey is not text; both forms go along.
      password: Buffer.from(text, 'utf8').equals(request.password) ? text : null,
      password_base64: request.password.toString('base64'),
      peerhost: request.peerAddress,
      tls: request.tls,
    };
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.status >= 500) throw new Error(`auth webhook answered ${response.status}`);
    if (response.status >= 400) return { allow: false };
    const answer = (await response.json()) as { result?: unknown; profile?: unknown };
    if (answer.result !== 'allow') return { allow: false };
    return { allow: true, profile: isProfile(answer.profile) ? answer.profile : 1 };
  }
}
