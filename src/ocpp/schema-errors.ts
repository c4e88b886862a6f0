/**
 * Turns the first ajv error of a failed payload into the version-neutral problem behind the
 * CALLERROR that OCPP-J 1.6 §4.2.3 ("Valid Error Codes") prescribes; the version spells the code
 * (ocpp/versions/v16.ts). The table is in its own file so it can be checked against the spec line
 * by line, without reading the loading code.
 */
import type { ErrorObject } from 'ajv';
import { OcppError } from './ocpp-error.js';
import type { OcppProblem } from './problem.js';

// OCPP-J 1.6 §4.2.3: "at least one field contains an invalid value", i.e. the value has the right
// type but is outside the allowed set, length, range, format or pattern. The schemas use no
// exclusive bounds today; they are listed because they are the same kind of constraint as maximum.
const PROPERTY_CONSTRAINT_KEYWORDS = [
  'enum',
  'maxLength',
  'minLength',
  'maximum',
  'minimum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'format',
  'pattern',
  'multipleOf',
  'maxItems',
  'minItems',
] as const;

const PROBLEM_BY_KEYWORD: ReadonlyMap<string, OcppProblem> = new Map<string, OcppProblem>([
  // "violates occurence constraints": a required field is missing.
  ['required', 'occurrence'],
  // "violates data type constraints (e.g. "somestring": 12)".
  ['type', 'type_constraint'],
  ...PROPERTY_CONSTRAINT_KEYWORDS.map((keyword): [string, OcppProblem] => [keyword, 'property_constraint']),
]);

/**
 * The OcppError for a payload that failed its schema. `details` stays `{}`: OCPP-J requires an
 * object there, and the description already names the offending property.
 */
export function schemaErrorToOcppError(error: ErrorObject | undefined): OcppError {
  if (error === undefined) {
    // ajv always sets `errors` when validation fails; this keeps a broken invariant visible on the wire.
    return new OcppError('bad_payload', 'payload does not match the schema of its action');
  }
  return new OcppError(problemFor(error), describe(error));
}

function problemFor(error: ErrorObject): OcppProblem {
  // A payload that is not a JSON object at all does not "conform the PDU structure" (§4.2.3
  // FormationViolation); TypeConstraintViolation is for a field of the wrong type.
  if (error.keyword === 'type' && error.instancePath === '') return 'bad_payload';
  // additionalProperties and every structural keyword (oneOf, const, ...) fall back to
  // FormationViolation: the payload is not the PDU the action defines.
  return PROBLEM_BY_KEYWORD.get(error.keyword) ?? 'bad_payload';
}

// Descriptions name the property as a JSON pointer (RFC 6901), as ajv reports it, so a charge point
// developer can find the field without the payload being echoed back.
function describe(error: ErrorObject): string {
  const params: Record<string, unknown> = error.params;
  const within = error.instancePath === '' ? '' : ` in ${error.instancePath}`;
  const subject = error.instancePath === '' ? 'payload' : error.instancePath;
  switch (error.keyword) {
    case 'required':
      return `"${text(params.missingProperty)}" is required${within}`;
    case 'additionalProperties':
      return `"${text(params.additionalProperty)}" is not allowed${within}`;
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(text) : [];
      return `${subject} must be one of ${allowed.join(', ')}`;
    }
    default:
      return `${subject} ${error.message ?? `violates "${error.keyword}"`}`;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
