import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { tlsPairProblem } from '../config/tls.js';

/** A certificate and key pair as read from disk, checked to load together. */
export interface TlsPair {
  /** sha256 over both files: a file event that changed neither is not a reload. */
  readonly fingerprint: string;
  /** Expiry of the leaf certificate, Unix seconds. */
  readonly notAfterS: number;
}

/** Reads and checks the pair; throws an Error saying why it cannot be served. */
export function readTlsPair(certFile: string, keyFile: string): TlsPair {
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  const problem = tlsPairProblem(cert, key);
  if (problem !== undefined) throw new Error(problem);
  const fingerprint = createHash('sha256').update(cert).update('\0').update(key).digest('hex');
  const notAfterS = Math.floor(Date.parse(new X509Certificate(cert).validTo) / 1000);
  return { fingerprint, notAfterS };
}

/** Settle time after the last file event: writers replace a file in several steps. */
const DEBOUNCE_MS = 250;

/**
 * Watches the directories of both files rather than the files: a Kubernetes secret volume and
 * most renewal tools (certbot, cert-manager) replace a file by renaming a new one over it (or
 * swap a `..data` symlink), which ends a watch on the old inode.
 */
export function watchTlsFiles(
  files: readonly string[],
  onChange: () => void,
  onError: (error: Error) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, DEBOUNCE_MS);
    timer.unref();
  };
  const watchers: FSWatcher[] = [...new Set(files.map((f) => dirname(f)))].map((dir) => {
    const watcher = watch(dir, { persistent: false }, fire);
    // A watched directory that goes away (unmounted volume) must not crash the node; SIGHUP
    // still reloads.
    watcher.on('error', onError);
    return watcher;
  });
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
