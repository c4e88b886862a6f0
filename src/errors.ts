/**
 * Error catalogue: every failure the gateway raises on purpose has a class with a stable `code`.
 * Tests and operators match on `code` (or `instanceof`), never on message text.
 */

export type GatewayErrorCode =
  | 'GW_ERR_CONFIG'
  | 'GW_ERR_UWS_NATIVE'
  | 'GW_ERR_LISTEN'
  | 'GW_ERR_SCHEMA_LOAD'
  | 'GW_ERR_ENVELOPE_ENCODE'
  | 'GW_ERR_BACKLOG_FULL'
  | 'GW_ERR_ADOPTION'
  | 'GW_ERR_PUBLISH_REFUSED';

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One invalid `OCPP_GW_*` variable; {@link ConfigError} carries all of them at once. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string | undefined;
  readonly problem: string;
}

/** Raised once with every invalid variable, so an operator fixes them in one pass (exit code 2). */
export class ConfigError extends GatewayError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      'GW_ERR_CONFIG',
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.problem}`).join('; ')}`,
    );
    this.problems = problems;
  }
}

/** The uWebSockets.js native binary did not load: the gateway refuses to run on a slower fallback. */
export class NativeModuleError extends GatewayError {
  constructor(cause: unknown) {
    super(
      'GW_ERR_UWS_NATIVE',
      'uWebSockets.js native binary failed to load; use Node 20 or 22 on glibc Linux x64/arm64 (see README)',
      { cause },
    );
  }
}

export class ListenError extends GatewayError {
  readonly port: number;

  constructor(what: string, port: number, cause?: unknown) {
    super('GW_ERR_LISTEN', `${what} could not listen on port ${port}; free the port or set another`, {
      cause,
    });
    this.port = port;
  }
}

export class SchemaLoadError extends GatewayError {
  constructor(detail: string, cause?: unknown) {
    super('GW_ERR_SCHEMA_LOAD', `OCPP JSON schemas failed to compile: ${detail}`, { cause });
  }
}

/** A route envelope could not be packed (msgpackr throws on very deep values): its content is at fault. */
export class EnvelopeEncodeError extends GatewayError {
  readonly kind: string;

  constructor(kind: string, cause: unknown) {
    super('GW_ERR_ENVELOPE_ENCODE', `route envelope "${kind}" could not be encoded`, { cause });
    this.kind = kind;
  }
}

/** A publish refused because the MQTT backlog is full (`OCPP_GW_MQTT_MAX_BACKLOG`); the caller answers for it. */
export class BacklogFullError extends GatewayError {
  constructor(maxBacklog: number) {
    super('GW_ERR_BACKLOG_FULL', `MQTT publish backlog full (${maxBacklog} messages)`);
  }
}

/** Adopting a dead node's MQTT session failed; the adoption is retried later. */
export class AdoptionError extends GatewayError {
  constructor(detail: string, cause?: unknown) {
    super('GW_ERR_ADOPTION', `session adoption failed: ${detail}`, { cause });
  }
}

/**
 * Why a publish was refused: `invalid_topic` and `packet_too_large` are found before it is sent
 * (a broker may close the connection on either); `broker_disconnect` is a publish the broker
 * dropped the connection on, again and again, instead of acknowledging it.
 */
export type PublishRefusal = 'invalid_topic' | 'packet_too_large' | 'broker_disconnect';
export const PUBLISH_REFUSALS: readonly PublishRefusal[] = [
  'invalid_topic',
  'packet_too_large',
  'broker_disconnect',
];

/** A publish that fails once, by design, instead of taking the MQTT connection down with it. */
export class PublishRefusedError extends GatewayError {
  readonly reason: PublishRefusal;
  readonly topic: string;

  constructor(reason: PublishRefusal, topic: string, detail: string) {
    super('GW_ERR_PUBLISH_REFUSED', `MQTT publish refused (${reason}): ${detail}`);
    this.reason = reason;
    this.topic = topic;
  }
}
