import { OCPP2_ERROR_CODES, OCPP2_MAX_MESSAGE_ID_LENGTH, OCPP201_ACTIONS } from './v201.js';
import type { OcppVersion } from './version.js';

/**
 * OCPP 2.1 (OCPP-J 2.1, Part 4): 2.0.1's frames plus CALLRESULTERROR (5) and SEND (6), 2.0.1's
 * error codes, and 2.0.1's messages plus those 2.1 adds.
 *
 * The count comes from the OCA's OCPP 2.1 JSON schema set (181 files): 90 request/response pairs,
 * the 64 of 2.0.1 and the {@link OCPP21_NEW_ACTIONS}, plus NotifyPeriodicEventStream, which is only
 * ever sent as a SEND and has no response.
 */
export const OCPP21_NEW_ACTIONS: readonly string[] = Object.freeze([
  'AFRRSignal',
  'AdjustPeriodicEventStream',
  'BatterySwap',
  'ChangeTransactionTariff',
  'ClearDERControl',
  'ClearTariffs',
  'ClosePeriodicEventStream',
  'GetCertificateChainStatus',
  'GetDERControl',
  'GetPeriodicEventStream',
  'GetTariffs',
  'NotifyAllowedEnergyTransfer',
  'NotifyDERAlarm',
  'NotifyDERStartStop',
  'NotifyPriorityCharging',
  'NotifySettlement',
  'NotifyWebPaymentStarted',
  'OpenPeriodicEventStream',
  'PullDynamicScheduleUpdate',
  'ReportDERControl',
  'RequestBatterySwap',
  'SetDERControl',
  'SetDefaultTariff',
  'UpdateDynamicSchedule',
  'UsePriorityCharging',
  'VatNumberValidation',
]);

/** Messages sent only as SEND (OCPP-J 2.1 Part 4 §4.2.5): a request schema, no response. */
export const OCPP21_SEND_ONLY_ACTIONS: readonly string[] = Object.freeze(['NotifyPeriodicEventStream']);

export const OCPP21_ACTIONS: readonly string[] = Object.freeze([...OCPP201_ACTIONS, ...OCPP21_NEW_ACTIONS]);

export const V21: OcppVersion = Object.freeze({
  subprotocol: 'ocpp2.1',
  protoVer: '2.1',
  name: 'OCPP 2.1',
  messageTypes: Object.freeze([2, 3, 4, 5, 6]),
  actions: new Set([...OCPP21_ACTIONS, ...OCPP21_SEND_ONLY_ACTIONS]),
  requiredActions: Object.freeze([...OCPP21_ACTIONS, ...OCPP21_SEND_ONLY_ACTIONS]),
  // typed-ocpp ships the OCA's 2.1 schemas as one ES module of `<Action>Request`/`<Action>Response`.
  schemas: Object.freeze({
    kind: 'module',
    packageName: 'typed-ocpp',
    specifier: 'typed-ocpp/dist/ocpp21/schemas.js',
  }),
  maxUniqueIdLength: OCPP2_MAX_MESSAGE_ID_LENGTH,
  heartbeatFromBootOnly: true,
  errorCodes: OCPP2_ERROR_CODES,
});
