/**
 * The CALLRESULT payload the bench backend answers each upstream CALL with. Only actions whose
 * reply differs by content are listed; every other action gets `{}`, which is the whole reply of
 * MeterValues, StatusNotification and TransactionEvent (without idToken) in 1.6 and 2.0.1.
 */

/** Seconds a station should wait between Heartbeats; the k6 scripts send their own interval. */
const HEARTBEAT_INTERVAL_S = 300;

export function callResultPayload(action: string, now: Date): Record<string, unknown> {
  switch (action) {
    // OCPP 1.6 §6.4 / 2.0.1 B01: the same three fields in both versions.
    case 'BootNotification':
      return { status: 'Accepted', currentTime: now.toISOString(), interval: HEARTBEAT_INTERVAL_S };
    case 'Heartbeat':
      return { currentTime: now.toISOString() };
    case 'Authorize':
      return { idTagInfo: { status: 'Accepted' } };
    case 'StartTransaction':
      return {
        transactionId: Math.floor(now.getTime() / 1000) % 1_000_000,
        idTagInfo: { status: 'Accepted' },
      };
    case 'StopTransaction':
      return { idTagInfo: { status: 'Accepted' } };
    case 'DataTransfer':
      return { status: 'Accepted' };
    default:
      return {};
  }
}

/** The EMQX-layout CALLRESULT published on `ocpp/cs/{cid}`. */
export function callResultMessage(uniqueId: string, action: string, now: Date): string {
  return JSON.stringify({ MessageTypeId: 3, UniqueId: uniqueId, Payload: callResultPayload(action, now) });
}
