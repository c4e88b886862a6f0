/**
 * OCPP 1.6 action names: the 28 core actions (OCPP 1.6 edition 2, §4 and §5) and those of the
 * Security Whitepaper extension. Metric labels use them to stay bounded; schema loading checks
 * that every core action has its schemas.
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

export const KNOWN_ACTIONS: ReadonlySet<string> = new Set([
  ...OCPP16_CORE_ACTIONS,
  ...OCPP16_SECURITY_ACTIONS,
]);
