/**
 * Turns the first ajv error of a failed payload into the CALLERROR that OCPP-J 1.6 §4.2.3
 * ("Valid Error Codes") prescribes. The table is in its own file so it can be checked against the spec
 * line by line, without reading the loading code.
 */
import type { ErrorObject } from 'ajv';
import type { OcppErrorCode } from './error-codes.js';
import { OcppError } from './ocpp-error.js';

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

const CODE_BY_KEYWORD: ReadonlyMap<string, OcppErrorCode> = new Map<string, OcppErrorCode>([
  // "violates occurence constraints": a required field is missing (the spec's spelling is kept).
  ['required', 'OccurenceConstraintViolation'],
  // "violates data type constraints (e.g. "somestring": 12)".
  ['type', 'TypeConstraintViolation'],
  ...PROPERTY_CONSTRAINT_KEYWORDS.map((keyword): [string, OcppErrorCode] => [
    keyword,
    'PropertyConstraintViolation',
  ]),
]);

/**
 * The OcppError for a payload that failed its schema. `details` stays `{}`: OCPP-J requires an
 * object there, and the description already names the offending property.
 */
export function schemaErrorToOcppError(error: ErrorObject | undefined): OcppError {
  if (error === undefined) {
    // ajv always sets `errors` when validation fails; this keeps a broken invariant visible on the wire.
    return new OcppError('FormationViolation', 'payload does not match the schema of its action');
  }
  return new OcppError(codeFor(error), describe(error));
}

function codeFor(error: ErrorObject): OcppErrorCode {
  // A payload that is not a JSON object at all does not "conform the PDU structure" (§4.2.3
  // FormationViolation); TypeConstraintViolation is for a field of the wrong type.
  if (error.keyword === 'type' && error.instancePath === '') return 'FormationViolation';
  // additionalProperties and every structural keyword (oneOf, const, ...) fall back to
  // FormationViolation: the payload is not the PDU the action defines.
  return CODE_BY_KEYWORD.get(error.keyword) ?? 'FormationViolation';
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
