import type { Reader } from './env-reader.js';
import type { Config } from './types.js';

const UPSTREAM_PLACEHOLDERS = ['cid', 'clientid', 'action', 'id', 'type'] as const;
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
  const presence = r.template('PRESENCE_TOPIC', 'events/${cid}/${event}', ['cid', 'clientid', 'event']);
  const downstream = r.template('DOWNSTREAM_TOPIC', 'cs/${cid}', DOWNSTREAM_PLACEHOLDERS);
  if (!downstream.includes('${cid}') && !downstream.includes('${clientid}')) {
    r.fail('DOWNSTREAM_TOPIC', 'must contain ${cid}: the gateway reads the charge point id from the topic');
  }
  return {
    mountpoint,
    upstream: r.template('UPSTREAM_TOPIC', 'cp/${cid}', UPSTREAM_PLACEHOLDERS),
    upstreamOverrides: parseOverrides(r),
    reply: r.template('UPSTREAM_REPLY_TOPIC', 'cp/${cid}/Reply', UPSTREAM_PLACEHOLDERS),
    error: r.template('UPSTREAM_ERROR_TOPIC', 'cp/${cid}/Reply', UPSTREAM_PLACEHOLDERS),
    downstream,
    presence: presenceOn ? presence : undefined,
    diagnostics: r.template('DIAGNOSTICS_TOPIC', 'gw/diagnostics', []),
  };
}
