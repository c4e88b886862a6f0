/**
 * Reason codes of a PUBACK/PUBREC (MQTT 5 §3.4.2.1, §3.5.2.1) that refuse a publish for the
 * broker's present state, not for the publish itself: 0x97 Quota exceeded (mosquitto: the
 * client's incoming quota, `max_inflight_messages` and `max_queued_messages`, is used up, for
 * instance by QoS 2 state a previous connection of the same session left behind) and 0x89
 * Server busy. The same publish may be accepted a moment later. Every other refusal (0x87 Not
 * authorized, 0x90 Topic Name invalid, 0x99 Payload format invalid, ...) is final.
 */
export const TRANSIENT_REASON_CODES: ReadonlySet<number> = new Set([0x89, 0x97]);

/** How a refused publish is tried again. */
export interface RetryPolicy {
  /** Sends after the first refusal, at most. */
  readonly maxAttempts: number;
  /** No retry starts later than this after the first refusal (ms). */
  readonly maxMs: number;
  /** Back-off before the first retry; doubled for each next one (ms). */
  readonly baseMs: number;
  now(): number;
  schedule(delayMs: number, run: () => void): void;
}

/** The reason code mqtt.js attaches to a refused publish (`ErrorWithReasonCode.code`). */
export function refusalCode(error: Error): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The back-off before sending a refused publish again, or undefined when it is not to be sent
 * again: a final reason code, or the attempts or the time used up.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  error: Error,
  attempts: number,
  sinceFirstRefusalMs: number,
): number | undefined {
  const code = refusalCode(error);
  if (code === undefined || !TRANSIENT_REASON_CODES.has(code)) return undefined;
  if (attempts >= policy.maxAttempts) return undefined;
  const delay = policy.baseMs * 2 ** attempts;
  if (sinceFirstRefusalMs + delay > policy.maxMs) return undefined;
  return delay;
}

/** The policy of the MQTT link: 50, 100, 200, 400, 800, 1600 ms; within 5 s. */
export const LINK_RETRY: RetryPolicy = {
  maxAttempts: 6,
  maxMs: 5000,
  baseMs: 50,
  now: () => Date.now(),
  schedule: (delayMs, run) => {
    setTimeout(run, delayMs).unref();
  },
};
