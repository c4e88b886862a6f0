import type * as UwsModule from 'uWebSockets.js';
import { NativeModuleError } from '../errors.js';

/**
 * The only place that names uWebSockets.js. The package is the `uws-pack` repack (native
 * binaries of uWS.js v20) under the alias `uWebSockets.js`; swapping in the upstream build is a
 * change of the package.json alias, not of code.
 */
export type Uws = typeof UwsModule;
export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_listen_socket,
  us_socket_context_t,
} from 'uWebSockets.js';

/** Status codes of `WebSocket.send` (uWS index.d.ts): 0 backpressure, 1 sent, 2 dropped. */
export const SendStatus = { Backpressure: 0, Success: 1, Dropped: 2 } as const;

/**
 * Loads the native binding. Refuses to continue when it does not load, rather than run on a
 * slow JavaScript fallback as some forks do (brief: no silent fallback).
 */
export async function loadUws(specifier = 'uWebSockets.js'): Promise<Uws> {
  let mod: Uws;
  try {
    mod = (await import(specifier)) as Uws;
  } catch (error) {
    throw new NativeModuleError(error);
  }
  if (typeof mod.App !== 'function' || typeof mod.us_listen_socket_close !== 'function') {
    throw new NativeModuleError(new Error(`${specifier} does not export the uWS.js API`));
  }
  return mod;
}
