import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OcppError } from '../src/ocpp/ocpp-error.js';
import { SchemaValidator } from '../src/ocpp/schema-validator.js';
import { V16 } from '../src/ocpp/versions/v16.js';

// The 28 actions of the OCPP 1.6 core specification; the security extension adds more.
const CORE_16_ACTIONS = [
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
] as const;

const validator = SchemaValidator.forVersion('ocpp1.6');
const boot = { chargePointVendor: 'ACME', chargePointModel: 'Volt-22' };

function expectError(result: OcppError | undefined): OcppError {
  assert.ok(result instanceof OcppError, 'expected an OcppError');
  assert.deepEqual(result.details, {});
  return result;
}

describe('SchemaValidator ocpp1.6', () => {
  it('knows all 28 core actions in both directions', () => {
    assert.equal(CORE_16_ACTIONS.length, 28);
    for (const action of CORE_16_ACTIONS) {
      assert.ok(validator.has(action), action);
      for (const kind of ['request', 'response'] as const) {
        const result = validator.validate(action, kind, {});
        assert.ok(result?.code(V16) !== 'NotImplemented', `${action} ${kind}`);
      }
    }
  });

  it('lists the security extension actions too, sorted', () => {
    assert.ok(validator.actions.length > CORE_16_ACTIONS.length);
    assert.ok(validator.has('SignCertificate'));
    assert.ok(validator.has('SecurityEventNotification'));
    assert.deepEqual([...validator.actions], [...validator.actions].sort());
  });

  it('accepts a valid BootNotification', () => {
    assert.equal(validator.validate('BootNotification', 'request', boot), undefined);
  });

  it('reports a missing required field as OccurenceConstraintViolation naming it', () => {
    const error = expectError(
      validator.validate('BootNotification', 'request', { chargePointVendor: 'ACME' }),
    );
    assert.equal(error.code(V16), 'OccurenceConstraintViolation');
    assert.match(error.message, /chargePointModel/);
  });

  it('reports a field of the wrong type as TypeConstraintViolation naming it', () => {
    const error = expectError(
      validator.validate('StatusNotification', 'request', {
        connectorId: '1',
        errorCode: 'NoError',
        status: 'Available',
      }),
    );
    assert.equal(error.code(V16), 'TypeConstraintViolation');
    assert.match(error.message, /connectorId/);
  });

  it('reports a value outside its enum as PropertyConstraintViolation', () => {
    const error = expectError(validator.validate('Reset', 'request', { type: 'Medium' }));
    assert.equal(error.code(V16), 'PropertyConstraintViolation');
    assert.match(error.message, /type/);
  });

  it('reports an unknown property as FormationViolation naming it', () => {
    const error = expectError(validator.validate('BootNotification', 'request', { ...boot, colour: 'red' }));
    assert.equal(error.code(V16), 'FormationViolation');
    assert.match(error.message, /colour/);
  });

  it('reports a payload that is not an object as FormationViolation', () => {
    const error = expectError(validator.validate('Heartbeat', 'request', [1]));
    assert.equal(error.code(V16), 'FormationViolation');
  });

  it('validates responses', () => {
    const response = { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 };
    assert.equal(validator.validate('BootNotification', 'response', response), undefined);
    const error = expectError(
      validator.validate('BootNotification', 'response', { ...response, interval: 'x' }),
    );
    assert.equal(error.code(V16), 'TypeConstraintViolation');
    assert.match(error.message, /interval/);
  });

  it('checks date-time formats', () => {
    const start = { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: '2024-05-01T10:00:00Z' };
    assert.equal(validator.validate('StartTransaction', 'request', start), undefined);
    const error = expectError(
      validator.validate('StartTransaction', 'request', { ...start, timestamp: 'yesterday' }),
    );
    assert.equal(error.code(V16), 'PropertyConstraintViolation');
    assert.match(error.message, /timestamp/);
  });

  it('accepts a decimal limit despite multipleOf 0.1 in binary floating point', () => {
    const profile = {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 1,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7.3 }] },
      },
    };
    assert.equal(validator.validate('SetChargingProfile', 'request', profile), undefined);
  });

  it('answers an unknown action with NotImplemented', () => {
    const error = expectError(validator.validate('MakeCoffee', 'request', {}));
    assert.equal(error.code(V16), 'NotImplemented');
    assert.equal(validator.has('MakeCoffee'), false);
  });

  it('compiles once per process', () => {
    assert.equal(SchemaValidator.forVersion('ocpp1.6'), validator);
  });
});
