import type { Reader } from './env-reader.js';
import type { Config } from './types.js';

// `version`: the charge point's `proto_ver` (`1.6`, `2.0.1`, `2.1`), for MQTT 3.1.1 backends,
// which have no user property to read it from (docs/architecture.md §2.6).
const UPSTREAM_PLACEHOLDERS = ['cid', 'clientid', 'action', 'id', 'type', 'version'] as const;
const EMQX_KEYS = [
  'MessageTypeId',
  'UniqueId',
  'Action',
  'Payload',
  'ErrorCode',
  'ErrorDescription',
  'ErrorDetails',
];
const DOWNSTREAM_PLACEHOLDERS = ['cid', 'clientid'] as const;

function parseOverrides(r: Reader): Record<string, string> {
  const raw = r.raw('UPSTREAM_TOPIC_OVERRIDES');
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    r.fail('UPSTREAM_TOPIC_OVERRIDES', 'must be a JSON object {"Action":"topic template"}');
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    r.fail('UPSTREAM_TOPIC_OVERRIDES', 'must be a JSON object {"Action":"topic template"}');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [action, template] of Object.entries(parsed)) {
    if (typeof template !== 'string' || template === '' || /[+#]/.test(template)) {
      r.fail('UPSTREAM_TOPIC_OVERRIDES', `topic for ${action} must be a non-empty topic without wildcards`);
    } else {
      out[action] = template;
    }
  }
  return out;
}

/** The MQTT topic layout (EMQX's `upstream.*`/`dnstream.*` templates, docs/architecture.md §2.4). */
export function parseTopics(r: Reader): Config['topics'] {
  const mountpoint = r.string('TOPIC_PREFIX', 'ocpp/');
  if (/[+#\0]/.test(mountpoint)) r.fail('TOPIC_PREFIX', 'must not contain + # or NUL');
  const presenceOn = r.bool('PRESENCE_ENABLED', true);
  const presence = r.template('PRESENCE_TOPIC', 'events/${cid}/${event}', [
    'cid',
    'clientid',
    'event',
    'version',
  ]);
  const downstream = r.template('DOWNSTREAM_TOPIC', 'cs/${cid}', DOWNSTREAM_PLACEHOLDERS);
  if (!downstream.includes('${cid}') && !downstream.includes('${clientid}')) {
    r.fail('DOWNSTREAM_TOPIC', 'must contain ${cid}: the gateway reads the charge point id from the topic');
  }
  const payloadVersionKey = r.raw('PAYLOAD_VERSION_KEY');
  // PascalCase like EMQX's keys; one of EMQX's own would change what a backend reads there.
  if (
    payloadVersionKey !== undefined &&
    (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(payloadVersionKey) || EMQX_KEYS.includes(payloadVersionKey))
  ) {
    r.fail('PAYLOAD_VERSION_KEY', `must be 1..64 letters and digits and none of ${EMQX_KEYS.join(', ')}`);
  }
  return {
    mountpoint,
    payloadVersionKey,
    upstream: r.template('UPSTREAM_TOPIC', 'cp/${cid}', UPSTREAM_PLACEHOLDERS),
    upstreamOverrides: parseOverrides(r),
    reply: r.template('UPSTREAM_REPLY_TOPIC', 'cp/${cid}/Reply', UPSTREAM_PLACEHOLDERS),
    error: r.template('UPSTREAM_ERROR_TOPIC', 'cp/${cid}/Reply', UPSTREAM_PLACEHOLDERS),
    downstream,
    presence: presenceOn ? presence : undefined,
    diagnostics: r.template('DIAGNOSTICS_TOPIC', 'gw/diagnostics', []),
  };
}
