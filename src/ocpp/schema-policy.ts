import { preloadSchemaSources } from './schema-source.js';
import { SchemaValidator } from './schema-validator.js';
import { VERSIONS, type OcppVersion, type Subprotocol } from './versions/index.js';

export interface SchemaPolicyOptions {
  /** Check what charge points send (`OCPP_GW_SCHEMA_VALIDATION` `upstream` or `all`). */
  readonly upstream: boolean;
  /** Check what the backend sends (`downstream` or `all`). */
  readonly downstream: boolean;
  /** The versions this node negotiates: their validators are made at start. */
  readonly subprotocols: readonly Subprotocol[];
}

/**
 * Which payloads of which version are schema-checked. Each version has its own validator, made
 * once at start (a missing or incomplete schema set stops the node there, not at the first CALL),
 * compiling each action on first use, and shared by every session of that version; a session asks
 * for its own version's.
 */
export class SchemaPolicy {
  readonly #upstream: boolean;
  readonly #downstream: boolean;
  readonly #validators = new Map<string, SchemaValidator>();

  /**
   * Imports the schema modules of the negotiated versions (ocpp/schema-source.ts), then reads them.
   * Versions not negotiated, and every version when checking is off, cost nothing.
   */
  static async create(options: SchemaPolicyOptions): Promise<SchemaPolicy> {
    if (options.upstream || options.downstream) {
      await preloadSchemaSources(options.subprotocols.map((subprotocol) => VERSIONS[subprotocol]));
    }
    return new SchemaPolicy(options);
  }

  constructor(options: SchemaPolicyOptions) {
    this.#upstream = options.upstream;
    this.#downstream = options.downstream;
    if (!options.upstream && !options.downstream) return;
    for (const subprotocol of options.subprotocols) {
      this.#validators.set(subprotocol, SchemaValidator.forVersion(subprotocol));
    }
  }

  /** The validator for CP → backend payloads of `version`, or undefined when they are not checked. */
  upstream(version: OcppVersion): SchemaValidator | undefined {
    return this.#upstream ? this.#validators.get(version.subprotocol) : undefined;
  }

  /** The validator for backend → CP payloads of `version`, or undefined when they are not checked. */
  downstream(version: OcppVersion): SchemaValidator | undefined {
    return this.#downstream ? this.#validators.get(version.subprotocol) : undefined;
  }
}
