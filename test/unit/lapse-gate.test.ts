import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lapsedGate } from '../harness/lapsed-gate.js';

/** A lapsed node's gate whose link confirmation the test settles by hand. */
function lapsedGateConfirming() {
  const { gate, back } = lapsedGate('gate');
  let confirm: () => void = () => undefined;
  gate.confirmLinkWith(() => new Promise<void>((resolve) => (confirm = resolve)));
  const events: string[] = [];
  const park = (name: string): boolean =>
    gate.park(
      () => events.push(`retry ${name}`),
      undefined,
      () => events.push(`dropped ${name}`),
    );
  return { gate, events, park, back, confirm: () => confirm() };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('LapseGate: back from a lapse, the link must prove it outlived it (docs/architecture.md §5.13)', () => {
  it('parked messages go on only once the link has answered, and what comes meanwhile waits behind them', async () => {
    const { events, park, back, confirm } = lapsedGateConfirming();
    assert.equal(park('m1'), true);
    back();
    await flush();
    assert.deepEqual(events, [], 'not before the link answered');
    assert.equal(park('m2'), true, 'a message arriving meanwhile is parked behind m1');
    confirm();
    await flush();
    assert.deepEqual(events, ['retry m1', 'retry m2']);
    assert.equal(park('m3'), false, 'confirmed: the gate is open');
  });

  it('a link close reported after liveness came back, before the link answered, counts as one while lapsed', async () => {
    const { gate, events, park, back, confirm } = lapsedGateConfirming();
    const epoch = gate.epoch; // m1 came over the link before the lapse
    park('m1');
    back();
    // The broker had handed the session to an adopter; our link reports the close only now.
    gate.dropAll();
    confirm();
    await flush();
    assert.deepEqual(events, ['dropped m1'], 'left to the broker, not routed again');
    assert.equal(gate.leftSince(epoch), true, "what that link delivered is the broker's again");
    assert.equal(gate.leftSince(gate.epoch), false);
  });
});
