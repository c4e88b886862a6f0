import { watch, type FSWatcher } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { parseRecord, type CredentialRecord } from './record.js';
import type { CredentialStore } from './store.js';

/** The file's shape: `{ "v": 1, "stations": { "<cid>": <record>, ... } }`. */
interface StoreFile {
  v: 1;
  stations: Record<string, CredentialRecord>;
}

/** A missing file is an empty store (the CLI creates it with the first `set`). */
async function readStations(path: string): Promise<Map<string, CredentialRecord>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StoreFile>;
  const stations = new Map<string, CredentialRecord>();
  for (const [cid, value] of Object.entries(parsed.stations ?? {})) {
    const record = parseRecord(value);
    if (record !== undefined) stations.set(cid, record);
  }
  return stations;
}

/**
 * The single-node credential store (OCPP_GW_AUTH_FILE): held in memory, reloaded when the file
 * changes (the directory is watched, so an editor's or the CLI's write-and-rename is seen), and
 * written atomically (temporary file, then rename). A file that does not parse keeps the last
 * good contents and logs why.
 */
export class FileStore implements CredentialStore {
  readonly kind = 'file';
  private stations = new Map<string, CredentialRecord>();
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly log: Logger | undefined,
    private readonly reloaded: (() => void) | undefined,
  ) {}

  /**
   * `reloaded`: the gateway's copy watches the file and calls it after each reload; the CLI's
   * one-shot copy passes undefined and does not watch.
   */
  static async open(path: string, log: Logger | undefined, reloaded?: () => void): Promise<FileStore> {
    const store = new FileStore(path, log, reloaded);
    store.stations = await readStations(path);
    if (reloaded !== undefined) store.startWatching();
    return store;
  }

  get size(): number {
    return this.stations.size;
  }

  private startWatching(): void {
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file !== null && file !== name) return;
      // Editors write in several steps: reload once they are done.
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 50);
    });
    this.watcher.on('error', (error) => this.log?.warn({ err: error }, 'credential file watch failed'));
  }

  async reload(): Promise<void> {
    try {
      this.stations = await readStations(this.path);
      this.reloaded?.();
      this.log?.info({ path: this.path, stations: this.stations.size }, 'credential file loaded');
    } catch (error) {
      this.log?.error(
        { err: error, path: this.path },
        'credential file unreadable; keeping the last good one',
      );
    }
  }

  get(cid: string): Promise<CredentialRecord | undefined> {
    return Promise.resolve(this.stations.get(cid));
  }

  async put(cid: string, record: CredentialRecord): Promise<void> {
    await this.update(cid, () => record);
  }

  async delete(cid: string): Promise<boolean> {
    let existed = false;
    await this.update(
      cid,
      (current) => {
        existed = current !== undefined;
        return undefined;
      },
      true,
    );
    return existed;
  }

  /** Changes are applied to the file's current contents, one at a time. */
  update(
    cid: string,
    change: (current: CredentialRecord | undefined) => CredentialRecord | undefined,
    remove = false,
  ): Promise<CredentialRecord | undefined> {
    const result = this.writing.then(async () => {
      const stations = await readStations(this.path);
      const next = change(stations.get(cid));
      if (next === undefined && !remove) return stations.get(cid);
      if (next === undefined) stations.delete(cid);
      else stations.set(cid, next);
      const file: StoreFile = { v: 1, stations: Object.fromEntries(stations) };
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.path);
      this.stations = stations;
      return next;
    });
    this.writing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  close(): Promise<void> {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    return this.writing;
  }
}
