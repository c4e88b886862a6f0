import type { Reader } from './env-reader.js';
import type { AdmissionConfig } from './types.js';

/**
 * Admission limits. Defaults sit far above what a real station does (a boot sends a few dozen
 * messages, then one every few seconds; a site behind one NAT address reconnects its stations
 * together after a power cut) and far below what one socket or address can do to a node.
 */
export function parseAdmission(r: Reader): AdmissionConfig {
  const admission: AdmissionConfig = {
    maxConnections: r.int('MAX_CONNECTIONS', 100_000, 1, 10_000_000),
    upgradesPerAddressPerS: r.int('UPGRADES_PER_ADDRESS_PER_S', 20, 1, 1_000_000),
    upgradeBurstPerAddress: r.int('UPGRADE_BURST_PER_ADDRESS', 200, 1, 1_000_000),
    maxPendingUpgrades: r.int('MAX_PENDING_UPGRADES', 2_000, 1, 1_000_000),
    callsPerS: r.int('CALLS_PER_S', 20, 1, 1_000_000),
    callBurst: r.int('CALL_BURST', 200, 1, 1_000_000),
    refusedCallsBeforeClose: r.int('REFUSED_CALLS_BEFORE_CLOSE', 100, 1, 1_000_000),
    // At least the CALL burst: a boot's CALLs sent at once all wait for the broker together.
    maxPendingPublishesPerConnection: r.int('MAX_PENDING_PUBLISHES_PER_CONNECTION', 250, 1, 1_000_000),
  };
  if (admission.upgradeBurstPerAddress < admission.upgradesPerAddressPerS)
    r.fail('UPGRADE_BURST_PER_ADDRESS', 'must be at least OCPP_GW_UPGRADES_PER_ADDRESS_PER_S');
  if (admission.callBurst < admission.callsPerS) r.fail('CALL_BURST', 'must be at least OCPP_GW_CALLS_PER_S');
  return admission;
}
