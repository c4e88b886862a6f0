import type * as UwsModule from 'uWebSockets.js';
import { NativeModuleError } from '../errors.js';

/**
 * The only place that names uWebSockets.js. The package is the `uws-pack` repack (native
 * binaries of uWS.js v20) under the alias `uWebSockets.js`; swapping in the upstream build is a
 * change of the package.json alias, not of code.
 */
export type Uws = typeof UwsModule;
export type {
  AppOptions,
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_listen_socket,
  us_socket_context_t,
} from 'uWebSockets.js';

/** Status codes of `WebSocket.send` (uWS index.d.ts): 0 backpressure, 1 sent, 2 dropped. */
export const SendStatus = { Backpressure: 0, Success: 1, Dropped: 2 } as const;

/** uWS's own default when UWS_HTTP_MAX_HEADERS_SIZE is unset (HttpParser.h). */
const UWS_DEFAULT_HEADER_BYTES = 4096;
const HEADER_SIZE_VARIABLE = 'UWS_HTTP_MAX_HEADERS_SIZE';
let headerBytesAtLoad: number | undefined;

/**
 * Sets the largest request head (request line, header lines and the blank line, in bytes) uWS
 * accepts before answering 431. uWS reads UWS_HTTP_MAX_HEADERS_SIZE once, in a static
 * initialiser that runs when the native module is loaded, so this must run before
 * {@link loadUws}; afterwards it changes nothing ({@link loadedMaxHeaderBytes} tells).
 */
export function setMaxHeaderBytes(bytes: number): void {
  process.env[HEADER_SIZE_VARIABLE] = String(bytes);
}

/** The header limit the loaded uWS runs with; undefined before {@link loadUws}. */
export function loadedMaxHeaderBytes(): number | undefined {
  return headerBytesAtLoad;
}

/**
 * Loads the native binding. Refuses to continue when it does not load, rather than run on a
 * slow JavaScript fallback as some forks do (docs/architecture.md §6.7).
 */
export async function loadUws(specifier = 'uWebSockets.js'): Promise<Uws> {
  let mod: Uws;
  // Read before the import: what the static initialiser sees (uWS parses it with atoi).
  const configured = Number.parseInt(process.env[HEADER_SIZE_VARIABLE] ?? '', 10);
  try {
    mod = (await import(specifier)) as Uws;
  } catch (error) {
    throw new NativeModuleError(error);
  }
  if (typeof mod.App !== 'function' || typeof mod.us_listen_socket_close !== 'function') {
    throw new NativeModuleError(new Error(`${specifier} does not export the uWS.js API`));
  }
  headerBytesAtLoad ??=
    Number.isInteger(configured) && configured > 0 ? configured : UWS_DEFAULT_HEADER_BYTES;
  return mod;
}

type ListenCallback = (socket: UwsModule.us_listen_socket | false) => void;

/**
 * `listen` with LIBUS_LISTEN_EXCLUSIVE_PORT: by default uWS sets SO_REUSEPORT, so a second process
 * on the same port would silently take a share of the charge points instead of failing. The
 * host + options overload exists in uWS.js v20 but is missing from its index.d.ts.
 */
export function listenExclusive(
  uws: Uws,
  app: UwsModule.TemplatedApp,
  host: string,
  port: number,
  cb: ListenCallback,
): void {
  const exclusive = (uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
  const listen = app.listen.bind(app) as unknown as (
    host: string,
    port: number,
    options: number,
    cb: ListenCallback,
  ) => void;
  listen(host, port, exclusive, cb);
}
