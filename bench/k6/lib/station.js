// One simulated charging station on a k6 VU: connect with the version's subprotocol, boot, send
// CALLs one at a time (OCPP-J 1.6 §4.1.1: one outstanding CALL per direction), answer every CALL
// from the gateway with an Accepted CALLRESULT.
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout } from 'k6/timers';
import { bootNotificationPayload, gatewayBaseUrl, subprotocol } from './ocpp.js';
import { WebSocket } from './websockets.js';

/** @typedef {import('./ocpp.js').OcppVersion} OcppVersion */
/** @typedef {Record<string, string>} Tags */

export const metrics = {
  /** 1 for a socket that failed before it opened (refused, HTTP error at upgrade), 0 for one that opened. */
  connectFailed: new Rate('ocpp_connect_failed'),
  /** 1 for a BootNotification answered Accepted, 0 for Pending/Rejected/CALLERROR/timeout. */
  bootAccepted: new Rate('ocpp_boot_accepted'),
  /** From `new WebSocket` to the Accepted BootNotification CALLRESULT. */
  bootTime: new Trend('ocpp_boot_time', true),
  /** CALL to its CALLRESULT, tagged with the action. */
  callRtt: new Trend('ocpp_call_rtt', true),
  /** CALLs answered with a CALLERROR, not answered in time, or cut by a close. */
  callErrors: new Counter('ocpp_call_errors'),
  /** Sends skipped because the station still waited for its previous CALL's answer. */
  callsSkippedBusy: new Counter('ocpp_calls_skipped_busy'),
  /** Downstream CALLs (commands) the station answered. */
  commandsAnswered: new Counter('ocpp_commands_answered'),
  /** Sockets the gateway or the network closed while the station meant to stay. */
  closedByServer: new Counter('ocpp_closed_by_server'),
};

const CALL_TIMEOUT_MS = Number(__ENV.CALL_TIMEOUT_MS || 30000);

export class Station {
  /**
   * @param {string} id
   * @param {OcppVersion} version
   * @param {Tags} tags added to every sample (e.g. the step or phase)
   * @param {{ onBooted?: () => void, onClosed?: () => void }} hooks
   */
  constructor(id, version, tags, hooks) {
    this.id = id;
    this.version = version;
    this.tags = tags;
    this.hooks = hooks;
    this.seq = 0;
    this.closing = false;
    this.opened = false;
    /** @type {{ id: string, action: string, sentAt: number, timer: number } | undefined} */
    this.pending = undefined;
    /** @type {((payload: any) => void) | undefined} */
    this.onResult = undefined;
    this.startedAt = Date.now();
    this.ws = new WebSocket(`${gatewayBaseUrl()}${id}`, null, {
      headers: { 'Sec-WebSocket-Protocol': subprotocol(version) },
      tags,
    });
    this.ws.onopen = () => this.onOpen();
    this.ws.onmessage = (event) => this.onMessage(event ? String(event.data) : '');
    this.ws.onerror = () => {
      if (!this.opened) metrics.connectFailed.add(1, this.tags);
    };
    this.ws.onclose = () => this.onClose();
  }

  /**
   * Sends a CALL unless one is still outstanding; `onResult` gets the CALLRESULT payload.
   * @param {string} action
   * @param {object} payload
   * @param {(payload: any) => void} [onResult]
   * @returns {boolean} false when skipped because the station is busy
   */
  call(action, payload, onResult) {
    if (this.pending !== undefined) {
      metrics.callsSkippedBusy.add(1, this.tags);
      return false;
    }
    const id = `${this.id}-${this.seq++}`;
    const timer = setTimeout(() => this.fail('timeout'), CALL_TIMEOUT_MS);
    this.pending = { id, action, sentAt: Date.now(), timer };
    this.onResult = onResult;
    this.ws.send(JSON.stringify([2, id, action, payload]));
    return true;
  }

  close() {
    this.closing = true;
    this.ws.close();
  }

  onOpen() {
    this.opened = true;
    metrics.connectFailed.add(0, this.tags);
    this.call('BootNotification', bootNotificationPayload(this.version), (payload) => {
      const accepted = payload !== undefined && payload.status === 'Accepted';
      metrics.bootAccepted.add(accepted ? 1 : 0, this.tags);
      if (!accepted) {
        this.close();
        return;
      }
      metrics.bootTime.add(Date.now() - this.startedAt, this.tags);
      if (this.hooks.onBooted) this.hooks.onBooted();
    });
  }

  /** @param {string} text */
  onMessage(text) {
    /** @type {any[]} */
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      metrics.callErrors.add(1, { ...this.tags, reason: 'unparsable' });
      return;
    }
    if (frame[0] === 2) {
      // A command from the backend through the gateway (OCPP-J 1.6 §4.2.2 CALLRESULT).
      this.ws.send(JSON.stringify([3, frame[1], { status: 'Accepted' }]));
      metrics.commandsAnswered.add(1, this.tags);
      return;
    }
    const pending = this.pending;
    if (pending === undefined || frame[1] !== pending.id) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    const onResult = this.onResult;
    this.onResult = undefined;
    if (frame[0] === 3) {
      metrics.callRtt.add(Date.now() - pending.sentAt, { ...this.tags, action: pending.action });
      if (onResult) onResult(frame[2]);
    } else {
      metrics.callErrors.add(1, { ...this.tags, action: pending.action, reason: String(frame[2]) });
      if (pending.action === 'BootNotification' && onResult) onResult(undefined);
    }
  }

  /** @param {string} reason */
  fail(reason) {
    const pending = this.pending;
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    metrics.callErrors.add(1, { ...this.tags, action: pending.action, reason });
    if (pending.action === 'BootNotification') metrics.bootAccepted.add(0, this.tags);
  }

  onClose() {
    this.fail('closed');
    if (this.opened && !this.closing) metrics.closedByServer.add(1, this.tags);
    if (this.hooks.onClosed) this.hooks.onClosed();
  }
}
