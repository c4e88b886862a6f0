import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialChanges } from '../../src/auth/credential-change.js';

/**
 * Issue 10 item 5: what an accepted downstream CALL changes in a station's credentials, per
 * subprotocol. OCPP 1.6 ChangeConfiguration, and OCPP 2.0.1 / 2.1 SetVariables of SecurityCtrlr
 * (the 2.x versions are not negotiable yet; the rule is pure data and tested here).
 */
describe('credentialChanges', () => {
  it('1.6: an accepted ChangeConfiguration of AuthorizationKey is a new secret', () => {
    const changes = credentialChanges(
      'ocpp1.6',
      'ChangeConfiguration',
      { key: 'AuthorizationKey', value: '00112233445566778899aabbccddeeff' },
      { status: 'Accepted' },
    );
    assert.deepEqual(changes, [{ kind: 'secret', secret: Buffer.from('00112233445566778899aabbccddeeff') }]);
  });

  it('1.6: an accepted ChangeConfiguration of SecurityProfile is a profile', () => {
    assert.deepEqual(
      credentialChanges(
        'ocpp1.6',
        'ChangeConfiguration',
        { key: 'SecurityProfile', value: '3' },
        { status: 'Accepted' },
      ),
      [{ kind: 'profile', profile: 3 }],
    );
  });

  it('1.6: nothing for Rejected, RebootRequired, NotSupported, other keys, other actions, bad values', () => {
    const key = { key: 'AuthorizationKey', value: 'abcdefabcdefabcdef' };
    for (const status of ['Rejected', 'RebootRequired', 'NotSupported']) {
      assert.deepEqual(credentialChanges('ocpp1.6', 'ChangeConfiguration', key, { status }), []);
    }
    const accepted = { status: 'Accepted' };
    assert.deepEqual(
      credentialChanges('ocpp1.6', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '5' }, accepted),
      [],
    );
    assert.deepEqual(
      credentialChanges('ocpp1.6', 'ChangeConfiguration', { key: 'SecurityProfile', value: '7' }, accepted),
      [],
    );
    assert.deepEqual(
      credentialChanges('ocpp1.6', 'ChangeConfiguration', { key: 'AuthorizationKey', value: 5 }, accepted),
      [],
    );
    assert.deepEqual(credentialChanges('ocpp1.6', 'Reset', key, accepted), []);
    assert.deepEqual(
      credentialChanges('ocpp1.6', 'SetVariables', key, accepted),
      [],
      '1.6 has no SetVariables',
    );
  });

  const setVariables = (
    items: { variable: string; value: string; attributeType?: string }[],
  ): Record<string, unknown> => ({
    setVariableData: items.map((item) => ({
      attributeValue: item.value,
      ...(item.attributeType === undefined ? {} : { attributeType: item.attributeType }),
      component: { name: 'SecurityCtrlr' },
      variable: { name: item.variable },
    })),
  });
  const results = (
    items: { variable: string; status: string; attributeType?: string }[],
  ): Record<string, unknown> => ({
    setVariableResult: items.map((item) => ({
      attributeStatus: item.status,
      ...(item.attributeType === undefined ? {} : { attributeType: item.attributeType }),
      component: { name: 'SecurityCtrlr' },
      variable: { name: item.variable },
    })),
  });

  for (const subprotocol of ['ocpp2.0.1', 'ocpp2.1']) {
    it(`${subprotocol}: SetVariables of BasicAuthPassword and SecurityProfile, each by its own result`, () => {
      const request = setVariables([
        { variable: 'BasicAuthPassword', value: 'a-new-password-of-24-chr' },
        { variable: 'SecurityProfile', value: '2' },
      ]);
      // Results in another order: matched by component and variable, not position.
      const response = results([
        { variable: 'SecurityProfile', status: 'Accepted' },
        { variable: 'BasicAuthPassword', status: 'Accepted', attributeType: 'Actual' },
      ]);
      assert.deepEqual(credentialChanges(subprotocol, 'SetVariables', request, response), [
        { kind: 'secret', secret: Buffer.from('a-new-password-of-24-chr') },
        { kind: 'profile', profile: 2 },
      ]);
    });

    it(`${subprotocol}: nothing for a rejected result, another component, or ChangeConfiguration`, () => {
      const request = setVariables([{ variable: 'BasicAuthPassword', value: 'a-new-password-of-24-chr' }]);
      for (const status of ['Rejected', 'RebootRequired', 'UnknownVariable']) {
        assert.deepEqual(
          credentialChanges(
            subprotocol,
            'SetVariables',
            request,
            results([{ variable: 'BasicAuthPassword', status }]),
          ),
          [],
        );
      }
      const other = {
        setVariableData: [
          {
            attributeValue: 'x'.repeat(20),
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'BasicAuthPassword' },
          },
        ],
      };
      const otherResult = {
        setVariableResult: [
          {
            attributeStatus: 'Accepted',
            component: { name: 'OCPPCommCtrlr' },
            variable: { name: 'BasicAuthPassword' },
          },
        ],
      };
      assert.deepEqual(credentialChanges(subprotocol, 'SetVariables', other, otherResult), []);
      const mismatchedType = results([
        { variable: 'BasicAuthPassword', status: 'Accepted', attributeType: 'Target' },
      ]);
      assert.deepEqual(credentialChanges(subprotocol, 'SetVariables', request, mismatchedType), []);
      assert.deepEqual(
        credentialChanges(
          subprotocol,
          'ChangeConfiguration',
          { key: 'AuthorizationKey', value: 'x'.repeat(20) },
          { status: 'Accepted' },
        ),
        [],
      );
    });
  }

  it('an unknown subprotocol changes nothing', () => {
    assert.deepEqual(
      credentialChanges(
        'ocpp1.5',
        'ChangeConfiguration',
        { key: 'AuthorizationKey', value: 'x'.repeat(20) },
        { status: 'Accepted' },
      ),
      [],
    );
  });
});
