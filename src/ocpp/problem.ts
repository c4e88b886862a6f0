/**
 * What is wrong with a frame or payload, in no version's words. The parser and the schema check
 * report one of these; the negotiated version spells it as a CALLERROR code
 * (ocpp/versions/v16.ts `errorCodes`). OCPP-J 1.6 §4.2.3 and OCPP 2.0.1 Part 4 §4.3 name the same
 * problems differently (`FormationViolation` / `FormatViolation`, `NotImplemented` /
 * `MessageTypeNotSupported` for an unknown message type), so the spelling cannot live here.
 */
export const OCPP_PROBLEMS = [
  /** Not JSON, or not a non-empty JSON array. */
  'malformed',
  /** The MessageTypeId is not an integer. */
  'bad_type',
  /** A MessageTypeId the version does not define. */
  'unknown_type',
  /** The UniqueId is not a string the gateway accepts. */
  'bad_id',
  /** A CALL with fewer elements than the frame needs. */
  'too_few_elements',
  /** Extra elements, or an element of the wrong kind (Action not a string, reply not its shape). */
  'bad_shape',
  /** The payload is not a JSON object, or not the structure its action defines. */
  'bad_payload',
  /** An Action the version does not know. */
  'unknown_action',
  /** A required field is missing. */
  'occurrence',
  /** A field of the wrong data type. */
  'type_constraint',
  /** A field of the right type with a value outside its allowed set, length, range or format. */
  'property_constraint',
  /** The receiver could not process a valid message. */
  'internal',
  /** Anything else: the code of every gateway error reply. */
  'generic',
] as const;

export type OcppProblem = (typeof OCPP_PROBLEMS)[number];
