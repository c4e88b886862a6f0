// OCPP-J frames for the k6 scripts, in the version chosen by OCPP_VERSION (1.6 or 2.0.1).

/** @typedef {'1.6' | '2.0.1'} OcppVersion */

/** @type {Record<OcppVersion, string>} */
const SUBPROTOCOLS = { 1.6: 'ocpp1.6', '2.0.1': 'ocpp2.0.1' };

/** @returns {OcppVersion} */
export function ocppVersion() {
  const version = __ENV.OCPP_VERSION || '1.6';
  if (version !== '1.6' && version !== '2.0.1') throw new Error(`OCPP_VERSION=${version}: use 1.6 or 2.0.1`);
  return version;
}

/** OCPP-J 1.6 §3.1.2 / 2.0.1 §3.1.2: the version is negotiated as the WebSocket subprotocol. */
export function subprotocol(/** @type {OcppVersion} */ version) {
  return SUBPROTOCOLS[version];
}

/** `ws://host:port/ocpp/` from GATEWAY_URL; the station id is appended. */
export function gatewayBaseUrl() {
  const url = __ENV.GATEWAY_URL || 'ws://127.0.0.1:33033/ocpp/';
  return url.endsWith('/') ? url : `${url}/`;
}

/** Station ids `<prefix>-<n>`, n the VU number, so a VU that reconnects keeps its id. */
export function stationId(/** @type {number} */ n) {
  return `${__ENV.STATION_PREFIX || 'k6'}-${String(n).padStart(6, '0')}`;
}

/** @param {OcppVersion} version */
export function bootNotificationPayload(version) {
  return version === '1.6'
    ? { chargePointVendor: 'k6', chargePointModel: 'k6-station' }
    : { reason: 'PowerUp', chargingStation: { vendorName: 'k6', model: 'k6-station' } };
}

/** @param {OcppVersion} version */
export function meterValuesPayload(version) {
  const timestamp = new Date().toISOString();
  return version === '1.6'
    ? { connectorId: 1, meterValue: [{ timestamp, sampledValue: [{ value: '123' }] }] }
    : { evseId: 1, meterValue: [{ timestamp, sampledValue: [{ value: 123 }] }] };
}

/** @param {OcppVersion} version */
export function statusNotificationPayload(version) {
  return version === '1.6'
    ? { connectorId: 1, errorCode: 'NoError', status: 'Available' }
    : { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 };
}
