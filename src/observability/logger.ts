import { pino, type Logger } from 'pino';
import type { Config } from '../config/index.js';

export type { Logger };

/**
 * Root logger: JSON lines on stdout, bound to the node id. Secrets are redacted wherever they
 * appear (docs/architecture.md §6.6). There are no per-session child loggers: one pino child per
 * idle socket would cost more memory than the socket itself, so each line passes `cpId` instead.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'nodeId'>): Logger {
  return pino({
    level: config.logLevel,
    base: { nodeId: config.nodeId },
    redact: {
      paths: ['authorization', 'password', '*.password', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
