import { Registry } from 'prom-client';
import { RedisLink } from './cluster/redis-link.js';
import { loadConfig, type Config } from './config/index.js';
import { ConfigError } from './errors.js';
import { ClusterMetrics } from './observability/cluster-metrics.js';
import { createLogger } from './observability/logger.js';
import { openStore } from './gateway/auth-side.js';
import { describeRecord, isProfile, setSecret, type SecurityProfile } from './auth/record.js';
import { generatePassword, secretProblem } from './auth/secret.js';
import type { CredentialStore } from './auth/store.js';

/**
 * `npm run --silent credentials -- set <cid> [--profile 1|2|3] (--password-stdin | --generate)`,
 * `... delete <cid>`, `... show <cid>`: the same operations against whichever store the
 * gateway's own OCPP_GW_* variables name (the cluster's Redis, else OCPP_GW_AUTH_FILE). Output
 * is one JSON line; a generated password is printed once, there, and stored only as a hash.
 * Exit codes: 0 done, 1 no such station, 2 usage or configuration error.
 */

const USAGE =
  'usage: credentials set <cid> [--profile 1|2|3] (--password-stdin | --generate)\n' +
  '       credentials delete <cid>\n' +
  '       credentials show <cid>\n';

class UsageError extends Error {}

interface Command {
  readonly verb: 'set' | 'delete' | 'show';
  readonly cid: string;
  readonly profile: SecurityProfile | undefined;
  readonly secret: 'stdin' | 'generate' | undefined;
}

function parseArgs(args: readonly string[]): Command {
  const [verb, cid, ...rest] = args;
  if (verb !== 'set' && verb !== 'delete' && verb !== 'show') throw new UsageError('unknown command');
  if (cid === undefined || cid === '' || cid.startsWith('--')) throw new UsageError('missing <cid>');
  let profile: SecurityProfile | undefined;
  let secret: Command['secret'];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (verb === 'set' && arg === '--profile') {
      const value = Number(rest[++i]);
      if (!isProfile(value)) throw new UsageError('--profile must be 1, 2 or 3');
      profile = value;
    } else if (
      verb === 'set' &&
      (arg === '--password-stdin' || arg === '--generate') &&
      secret === undefined
    ) {
      secret = arg === '--generate' ? 'generate' : 'stdin';
    } else throw new UsageError(`unexpected argument ${String(arg)}`);
  }
  if (verb === 'set' && secret === undefined)
    throw new UsageError('set needs --password-stdin or --generate');
  return { verb, cid, profile, secret };
}

/** The password as piped in, bytes kept (a raw 1.6 key), one trailing line break dropped. */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  const end = all.at(-1) === 0x0a ? (all.at(-2) === 0x0d ? all.length - 2 : all.length - 1) : all.length;
  return all.subarray(0, end);
}

async function run(command: Command, store: CredentialStore): Promise<number> {
  const print = (value: unknown): boolean => process.stdout.write(`${JSON.stringify(value)}\n`);
  if (command.verb === 'show') {
    const record = await store.get(command.cid);
    if (record === undefined) {
      print({ cid: command.cid, error: 'not_found' });
      return 1;
    }
    print(describeRecord(command.cid, record));
    return 0;
  }
  if (command.verb === 'delete') {
    const deleted = await store.delete(command.cid);
    print({ cid: command.cid, deleted });
    return deleted ? 0 : 1;
  }
  const generated = command.secret === 'generate' ? generatePassword() : undefined;
  const secret = generated === undefined ? await readStdin() : Buffer.from(generated, 'utf8');
  const problem = secretProblem(secret);
  if (problem !== undefined) throw new UsageError(`password ${problem}`);
  const record = await store.update(command.cid, (current) => setSecret(current, secret, command.profile));
  if (record === undefined) throw new Error('store did not keep the record');
  print({
    ...describeRecord(command.cid, record),
    ...(generated === undefined ? {} : { password: generated }),
  });
  return 0;
}

async function main(): Promise<number> {
  let config: Config;
  let command: Command;
  try {
    command = parseArgs(process.argv.slice(2));
    config = loadConfig();
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`credentials: ${error.message}\n${USAGE}`);
    else if (error instanceof ConfigError)
      process.stderr.write(
        `credentials: ${error.problems.map((p) => `${p.variable}: ${p.problem}`).join('\n')}\n`,
      );
    else throw error;
    return 2;
  }
  const log = createLogger({ nodeId: `${config.nodeId}-credentials`, logLevel: 'error' });
  const redis =
    config.cluster === undefined
      ? undefined
      : await RedisLink.connect(
          config.cluster,
          `${config.nodeId}-credentials`,
          log,
          new ClusterMetrics(new Registry()),
        );
  try {
    const store = await openStore(config, redis, undefined);
    if (store === undefined) {
      process.stderr.write(
        'credentials: no store; set OCPP_GW_AUTH_FILE, or OCPP_GW_REDIS_URL for a cluster\n',
      );
      return 2;
    }
    try {
      return await run(command, store);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`credentials: ${error.message}\n`);
      return 2;
    } finally {
      await store.close();
    }
  } finally {
    await redis?.quit();
  }
}

process.exitCode = await main();
