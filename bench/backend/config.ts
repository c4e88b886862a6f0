/**
 * Settings of the bench backend, from `BENCH_BACKEND_*` variables (bench/README.md lists them).
 * Parsed once; every bad value is reported together and the process exits non-zero.
 */

export interface BackendConfig {
  /** Broker the gateway publishes to. @default mqtt://127.0.0.1:1883 */
  readonly mqttUrl: string;
  readonly mqttUsername: string | undefined;
  readonly mqttPassword: string | undefined;
  /** Delay before each CALLRESULT, as a slow CSMS would answer. @default 0 */
  readonly latencyMs: number;
  /** Downstream commands per second over all known stations; 0 sends none. @default 0 */
  readonly commandRatePerS: number;
  /** Action of every command. @default ChangeAvailability */
  readonly commandAction: string;
  /** Payload JSON of every command (1.6 ChangeAvailability unless set). */
  readonly commandPayload: string;
  /** Commands per station in all (1: every station answers exactly one); 0 for no limit. @default 0 */
  readonly commandsPerStation: number;
  /** A command without a reply after this long counts as lost. @default 30000 */
  readonly commandTimeoutMs: number;
  /** Wait this long after start before the first command, so stations can boot. @default 0 */
  readonly commandDelayMs: number;
  /** Exit by itself after this long (sending stops, in-flight commands drain); 0 runs until a signal. @default 0 */
  readonly durationMs: number;
  /** A JSON stats line on stdout this often; 0 only at the end. @default 10000 */
  readonly reportEveryMs: number;
  /** `GET /stats` and `/healthz` on this port; 0 picks a free one, -1 serves none. @default -1 */
  readonly httpPort: number;
  readonly httpHost: string;
  /** Subscribe through `$share/<group>/` so several backend replicas split the traffic. */
  readonly sharedGroup: string | undefined;
}

const DEFAULT_COMMAND_PAYLOAD = '{"connectorId":0,"type":"Operative"}';

export function loadBackendConfig(env: NodeJS.ProcessEnv = process.env): BackendConfig {
  const problems: string[] = [];
  const text = (name: string, fallback: string): string => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  };
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      problems.push(`${name}=${raw}: expected an integer >= ${min}`);
      return fallback;
    }
    return value;
  };
  const commandPayload = text('BENCH_BACKEND_COMMAND_PAYLOAD', DEFAULT_COMMAND_PAYLOAD);
  try {
    const parsed: unknown = JSON.parse(commandPayload);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
  } catch {
    problems.push(`BENCH_BACKEND_COMMAND_PAYLOAD=${commandPayload}: expected a JSON object`);
  }
  const sharedGroup = text('BENCH_BACKEND_SHARED_GROUP', '');
  if (/[/+#]/.test(sharedGroup)) problems.push(`BENCH_BACKEND_SHARED_GROUP=${sharedGroup}: no / + or #`);
  const config: BackendConfig = {
    mqttUrl: text('BENCH_BACKEND_MQTT_URL', 'mqtt://127.0.0.1:1883'),
    mqttUsername: env.BENCH_BACKEND_MQTT_USERNAME,
    mqttPassword: env.BENCH_BACKEND_MQTT_PASSWORD,
    latencyMs: int('BENCH_BACKEND_LATENCY_MS', 0, 0),
    commandRatePerS: int('BENCH_BACKEND_COMMAND_RATE', 0, 0),
    commandAction: text('BENCH_BACKEND_COMMAND_ACTION', 'ChangeAvailability'),
    commandPayload,
    commandsPerStation: int('BENCH_BACKEND_COMMANDS_PER_STATION', 0, 0),
    commandTimeoutMs: int('BENCH_BACKEND_COMMAND_TIMEOUT_MS', 30_000, 1),
    commandDelayMs: int('BENCH_BACKEND_COMMAND_DELAY_MS', 0, 0),
    durationMs: int('BENCH_BACKEND_DURATION_S', 0, 0) * 1000,
    reportEveryMs: int('BENCH_BACKEND_REPORT_S', 10, 0) * 1000,
    httpPort: int('BENCH_BACKEND_HTTP_PORT', -1, -1),
    httpHost: text('BENCH_BACKEND_HTTP_HOST', '127.0.0.1'),
    sharedGroup: sharedGroup === '' ? undefined : sharedGroup,
  };
  if (problems.length > 0) throw new Error(`bench backend: ${problems.join('; ')}`);
  return Object.freeze(config);
}
