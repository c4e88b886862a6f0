import type { OcppErrorCode } from './error-codes.js';
import type { CallErrorFrame } from './frame.js';

/**
 * An OCPP-level failure: what the peer did wrong, in the spec's words. Turned into a CALLERROR
 * frame with {@link OcppError.toCallError}; `details` is always a JSON object (OCPP-J 1.6 §4.2.3
 * requires an object, EMQX sends `null`).
 */
export class OcppError extends Error {
  readonly errorCode: OcppErrorCode;
  readonly details: Record<string, unknown>;

  constructor(errorCode: OcppErrorCode, description: string, details: Record<string, unknown> = {}) {
    super(description);
    this.name = 'OcppError';
    this.errorCode = errorCode;
    this.details = details;
  }

  toCallError(uniqueId: string): CallErrorFrame {
    return [4, uniqueId, this.errorCode, this.message, this.details];
  }
}
