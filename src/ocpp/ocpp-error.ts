import type { OcppProblem } from './problem.js';
import type { OcppVersion } from './versions/version.js';

/**
 * An OCPP-level failure: what the peer did wrong, as a version-neutral {@link OcppProblem}. The
 * negotiated version spells the CALLERROR code ({@link OcppError.code}); `details` is always a JSON
 * object (OCPP-J 1.6 §4.2.3 requires an object, EMQX sends `null`).
 */
export class OcppError extends Error {
  readonly problem: OcppProblem;
  readonly details: Record<string, unknown>;

  constructor(problem: OcppProblem, description: string, details: Record<string, unknown> = {}) {
    super(description);
    this.name = 'OcppError';
    this.problem = problem;
    this.details = details;
  }

  /** The CALLERROR ErrorCode for this problem in `version`'s words. */
  code(version: OcppVersion): string {
    return version.errorCodes[this.problem];
  }

  /** `[4, id, code, description, details]`, a CallErrorFrame of ocpp/frame.ts (not imported: frame.ts imports this file). */
  toCallError(uniqueId: string, version: OcppVersion): [4, string, string, string, Record<string, unknown>] {
    return [4, uniqueId, this.code(version), this.message, this.details];
  }
}
