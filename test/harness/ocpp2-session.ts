/**
 * An OCPP 2.0.1/2.1 charging session for end-to-end tests: what the station sends upstream, what
 * the backend commands downstream with the station's answers, and the backend's answers. Every
 * payload is valid in both 2.0.1 and 2.1.
 */
export type Call = {
  MessageTypeId: number;
  UniqueId: string;
  Action: string;
  Payload: Record<string, unknown>;
};
export type Reply = {
  MessageTypeId: number;
  UniqueId: string;
  Action?: string;
  Payload?: Record<string, unknown>;
};

const now = (): string => new Date().toISOString();

/** A CSMS answering every 2.x charge-point CALL over MQTT with a schema-valid response. */
export function answerFor(call: Call): Record<string, unknown> {
  switch (call.Action) {
    case 'BootNotification':
      return { status: 'Accepted', currentTime: now(), interval: 240 };
    case 'Heartbeat':
      return { currentTime: now() };
    case 'Authorize':
      return { idTokenInfo: { status: 'Accepted' } };
    case 'TransactionEvent':
      return call.Payload.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {};
    default:
      return {};
  }
}

const evse = { id: 1, connectorId: 1 };
const meterValue = [
  { timestamp: now(), sampledValue: [{ value: 1234, measurand: 'Energy.Active.Import.Register' }] },
];
const transactionInfo = { transactionId: 'tx-1' };

/** What the charge point sends upstream, in order: [action, payload]. */
export const UPSTREAM: Array<[string, Record<string, unknown>]> = [
  ['BootNotification', { chargingStation: { vendorName: 'Acme', model: 'X2' }, reason: 'PowerUp' }],
  ['Heartbeat', {}],
  ['StatusNotification', { timestamp: now(), connectorStatus: 'Available', evseId: 1, connectorId: 1 }],
  ['Authorize', { idToken: { idToken: 'TAG1', type: 'ISO14443' } }],
  [
    'TransactionEvent',
    {
      eventType: 'Started',
      timestamp: now(),
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo,
      evse,
      idToken: { idToken: 'TAG1', type: 'ISO14443' },
    },
  ],
  [
    'TransactionEvent',
    {
      eventType: 'Updated',
      timestamp: now(),
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      transactionInfo,
      meterValue,
    },
  ],
  ['MeterValues', { evseId: 1, meterValue }],
  [
    'TransactionEvent',
    {
      eventType: 'Ended',
      timestamp: now(),
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { ...transactionInfo, stoppedReason: 'Local' },
    },
  ],
];

/** What the backend sends downstream: [uniqueId, action, payload, the station's answer]. */
export const DOWNSTREAM: Array<[string, string, Record<string, unknown>, Record<string, unknown>]> = [
  [
    'd-start',
    'RequestStartTransaction',
    { idToken: { idToken: 'TAG2', type: 'ISO14443' }, remoteStartId: 7 },
    { status: 'Accepted' },
  ],
  ['d-stop', 'RequestStopTransaction', { transactionId: 'tx-1' }, { status: 'Accepted' }],
  ['d-reset', 'Reset', { type: 'OnIdle' }, { status: 'Accepted' }],
  [
    'd-get',
    'GetVariables',
    { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
    {
      getVariableResult: [
        {
          attributeStatus: 'Accepted',
          attributeValue: '240',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    },
  ],
  [
    'd-set',
    'SetVariables',
    {
      setVariableData: [
        {
          attributeValue: '300',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    },
    {
      setVariableResult: [
        {
          attributeStatus: 'Accepted',
          component: { name: 'OCPPCommCtrlr' },
          variable: { name: 'HeartbeatInterval' },
        },
      ],
    },
  ],
];
