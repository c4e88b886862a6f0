import type { JsonObject } from '../ocpp/frame.js';
import type { SecurityProfile } from './record.js';

/**
 * What an accepted downstream CALL changes in a station's credentials, per OCPP version, as pure
 * data: the backend sets a new Basic-auth secret or raises the security profile, the station
 * answers Accepted, and the gateway must follow (or the station's next connect fails).
 */
export type CredentialChange =
  | { readonly kind: 'secret'; readonly secret: Buffer }
  | { readonly kind: 'profile'; readonly profile: SecurityProfile };

type Extractor = (action: string, request: JsonObject, response: JsonObject) => CredentialChange[];

function profileOf(value: unknown): CredentialChange[] {
  const profile = typeof value === 'string' && /^[0-9]$/.test(value.trim()) ? Number(value) : value;
  return profile === 1 || profile === 2 || profile === 3 ? [{ kind: 'profile', profile }] : [];
}

/**
 * OCPP 1.6 Security Whitepaper ed. 3 §2.4, §3.3: ChangeConfiguration of `AuthorizationKey` (the
 * new Basic-auth password) or `SecurityProfile`, answered `Accepted`.
 */
const fromChangeConfiguration: Extractor = (action, request, response) => {
  if (action !== 'ChangeConfiguration' || response.status !== 'Accepted') return [];
  const { key, value } = request;
  if (typeof value !== 'string') return [];
  if (key === 'AuthorizationKey')
    return value === '' ? [] : [{ kind: 'secret', secret: Buffer.from(value, 'utf8') }];
  if (key === 'SecurityProfile') return profileOf(value);
  return [];
};

interface SetVariable {
  readonly component?: { readonly name?: unknown; readonly instance?: unknown };
  readonly variable?: { readonly name?: unknown; readonly instance?: unknown };
  readonly attributeType?: unknown;
}

/** The same component, variable and attribute type: how a SetVariableResult names its request. */
function sameTarget(a: SetVariable, b: SetVariable): boolean {
  return (
    a.component?.name === b.component?.name &&
    a.component?.instance === b.component?.instance &&
    a.variable?.name === b.variable?.name &&
    a.variable?.instance === b.variable?.instance &&
    (a.attributeType ?? 'Actual') === (b.attributeType ?? 'Actual')
  );
}

/**
 * OCPP 2.0.1 Part 2 A01 (and 2.1): SetVariables of `SecurityCtrlr.BasicAuthPassword` (A01.FR.01)
 * or `SecurityCtrlr.SecurityProfile` (A05), whose SetVariableResult is `Accepted`.
 */
const fromSetVariables: Extractor = (action, request, response) => {
  if (action !== 'SetVariables') return [];
  const data = Array.isArray(request.setVariableData)
    ? (request.setVariableData as (SetVariable & { attributeValue?: unknown })[])
    : [];
  const results = Array.isArray(response.setVariableResult)
    ? (response.setVariableResult as (SetVariable & { attributeStatus?: unknown })[])
    : [];
  const changes: CredentialChange[] = [];
  for (const item of data) {
    if (typeof item !== 'object' || item === null || item.component?.name !== 'SecurityCtrlr') continue;
    const result = results.find((r) => typeof r === 'object' && r !== null && sameTarget(r, item));
    if (result?.attributeStatus !== 'Accepted' || typeof item.attributeValue !== 'string') continue;
    if (item.variable?.name === 'BasicAuthPassword' && item.attributeValue !== '')
      changes.push({ kind: 'secret', secret: Buffer.from(item.attributeValue, 'utf8') });
    else if (item.variable?.name === 'SecurityProfile') changes.push(...profileOf(item.attributeValue));
  }
  return changes;
};

/** Keyed by WebSocket subprotocol, so a version added later brings its own rule. */
const EXTRACTORS: Readonly<Record<string, Extractor>> = {
  'ocpp1.6': fromChangeConfiguration,
  'ocpp2.0.1': fromSetVariables,
  'ocpp2.1': fromSetVariables,
};

/** The credential changes an accepted downstream CALL means; [] for everything else. */
export function credentialChanges(
  subprotocol: string,
  action: string,
  request: JsonObject,
  response: JsonObject,
): CredentialChange[] {
  return EXTRACTORS[subprotocol]?.(action, request, response) ?? [];
}

/** Actions that may change credentials: the hot path skips every other answer at once. */
export const CREDENTIAL_ACTIONS: ReadonlySet<string> = new Set(['ChangeConfiguration', 'SetVariables']);
