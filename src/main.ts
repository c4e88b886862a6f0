import { loadConfig } from './config/index.js';
import { setMaxHeaderBytes } from './edge/uws.js';
import { ConfigError, GatewayError } from './errors.js';
import { Gateway } from './gateway/gateway.js';
import { createLogger } from './observability/logger.js';

/** Process entry: configuration, wiring, signals; nothing else. */

const EXIT_CONFIG = 2;

function readConfig(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      const lines = error.problems.map(
        (p) => `  ${p.variable}${p.value === undefined ? '' : `=${JSON.stringify(p.value)}`}: ${p.problem}`,
      );
      process.stderr.write(`ocpp-gateway: invalid configuration (${error.code}):\n${lines.join('\n')}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
}

const config = readConfig();
// Before the gateway loads uWS: uWS reads its header limit once, at load.
setMaxHeaderBytes(config.maxHeaderBytes);
const log = createLogger(config);
const gateway = new Gateway(config, log);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  try {
    await gateway.shutdown();
    log.info('stopped');
    process.exit(0);
  } catch (error) {
    log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
// Reloads the wss certificate and key without dropping connections; a bad pair keeps the old.
process.on('SIGHUP', () => gateway.reloadTls());

try {
  await gateway.start();
} catch (error) {
  const code = error instanceof GatewayError ? error.code : 'GW_ERR_START';
  log.fatal(
    {
      code,
      err: error,
      cause: error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined,
    },
    'gateway failed to start',
  );
  process.exit(1);
}
