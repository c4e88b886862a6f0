import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setSecret } from '../../src/auth/record.js';
import { BootResponder } from './boot-responder.js';
import { startBenchBroker } from './broker.js';
import { ManagedProcess, childEnv } from './processes.js';
import { stationPassword } from './station-tls.js';
import { startTarget } from './targets.js';
import type { TlsFiles } from '../../test/harness/tls-certs.js';

/**
 * The targets of the TLS capacity bench (bench/tls-capacity.ts), each checking
 * `Authorization: Basic` against the same credential file with the same salted hash:
 * - `gateway-tls`: the gateway's wss listener (`OCPP_GW_AUTH_MODE=basic`, file store), mosquitto
 *   behind it and a backend accepting every BootNotification over MQTT;
 * - `peer-tls`: `ws` on `node:https` (bench/peer/ws-tls-auth.ts), same certificate, answering the
 *   BootNotification itself (no MQTT);
 * - `gateway-ws`: the same gateway process configuration, stations on its plain ws listener
 *   (security profile 1): the figure the TLS one is held against.
 */
export type TlsTargetKind = 'gateway-tls' | 'peer-tls' | 'gateway-ws';
export const TLS_TARGET_KINDS: readonly TlsTargetKind[] = ['gateway-tls', 'peer-tls', 'gateway-ws'];

export interface TlsTarget {
  readonly kind: TlsTargetKind;
  readonly pid: number;
  /** `wss://127.0.0.1:<port>/ocpp/` or `ws://...`. */
  readonly baseUrl: string;
  readonly tls: boolean;
  /** The gateway's metrics port; undefined for the peer. */
  readonly httpPort: number | undefined;
  /** Why the target died, if it did (the end of its stderr). */
  deadReason(): string | undefined;
  stop(): Promise<void>;
}

const PEER_JS = fileURLToPath(new URL('../peer/ws-tls-auth.js', import.meta.url));

/** Writes the credential file (file store format) for every station id, profile 1. */
export function writeCredentialFile(dir: string, cids: readonly string[]): string {
  const path = join(dir, 'credentials.json');
  const stations: Record<string, unknown> = {};
  for (const cid of cids) stations[cid] = setSecret(undefined, Buffer.from(stationPassword(cid)), 1);
  writeFileSync(path, JSON.stringify({ v: 1, stations }));
  return path;
}

function deadReason(proc: ManagedProcess): string | undefined {
  return proc.running ? undefined : `${proc.name} exited; stderr:\n${proc.stderr()}`;
}

async function startPeer(files: TlsFiles, authFile: string): Promise<TlsTarget> {
  const proc = new ManagedProcess(
    'peer-tls',
    process.execPath,
    [PEER_JS, files.serverCert, files.serverKey, authFile],
    childEnv({}),
  );
  const ready = await proc.waitForJson((line) => typeof line.port === 'number', 30_000, 'peer ready');
  return {
    kind: 'peer-tls',
    pid: proc.pid,
    baseUrl: `wss://127.0.0.1:${ready.port as number}/ocpp/`,
    tls: true,
    httpPort: undefined,
    deadReason: () => deadReason(proc),
    stop: async () => {
      await proc.stop();
    },
  };
}

async function startGatewayTarget(
  kind: TlsTargetKind,
  files: TlsFiles,
  authFile: string,
  qos: 0 | 1 | 2,
): Promise<TlsTarget> {
  const broker = await startBenchBroker();
  try {
    const target = await startTarget('gateway', {
      mqttUrl: broker.url,
      qos,
      env: {
        OCPP_GW_AUTH_MODE: 'basic',
        OCPP_GW_AUTH_FILE: authFile,
        OCPP_GW_TLS_CERT_FILE: files.serverCert,
        OCPP_GW_TLS_KEY_FILE: files.serverKey,
        OCPP_GW_TLS_PORT: '0',
        OCPP_GW_TLS_WATCH: 'false',
      },
    });
    const backend = await BootResponder.start(broker.url);
    const tls = kind === 'gateway-tls';
    return {
      kind,
      pid: target.process.pid,
      baseUrl: tls ? `wss://127.0.0.1:${target.tlsPort ?? 0}/ocpp/` : `ws://127.0.0.1:${target.wsPort}/ocpp/`,
      tls,
      httpPort: target.httpPort,
      deadReason: () => deadReason(target.process),
      stop: async () => {
        await backend.stop().catch(() => {});
        await target.process.stop();
        await broker.stop();
      },
    };
  } catch (err) {
    await broker.stop();
    throw err;
  }
}

export function startTlsTarget(
  kind: TlsTargetKind,
  files: TlsFiles,
  authFile: string,
  qos: 0 | 1 | 2,
): Promise<TlsTarget> {
  return kind === 'peer-tls' ? startPeer(files, authFile) : startGatewayTarget(kind, files, authFile, qos);
}
