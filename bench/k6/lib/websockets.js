// The WebSocket module moved: `k6/experimental/websockets` up to k6 v1.5, `k6/websockets` from
// v1.6 (the experimental name stays there with a deprecation warning). k6 has no dynamic
// import(), but its CommonJS `require` throws on an unknown module, so the first name that loads
// wins and the same script runs on both.

// Not a literal: the type checker would resolve a literal require, and @types/k6 dropped the
// experimental name.
const EXPERIMENTAL = 'k6/experimental/websockets';

/** @returns {typeof import('k6/websockets')} */
function load() {
  try {
    return /** @type {typeof import('k6/websockets')} */ (require('k6/websockets'));
  } catch {
    return /** @type {typeof import('k6/websockets')} */ (require(EXPERIMENTAL));
  }
}

const module = load();

/** The WebSocket class of whichever module this k6 has. */
export const WebSocket = module.WebSocket;
