import type { HttpResponse } from './uws.js';

/**
 * Finishes an upgrade once `answer` settles, in a later event-loop turn. uWS rules for an
 * asynchronous response: `onAborted` must be registered before returning from the handler (the
 * client may hang up meanwhile, after which `res` must not be touched), and writes made outside
 * a uWS callback are corked into one syscall. `settled` runs once: when the answer is written
 * or the client hung up first.
 */
export function finishLater<T>(
  res: HttpResponse,
  answer: Promise<T>,
  finish: (result: T) => void,
  fail: (error: unknown) => void,
  settled: () => void = () => undefined,
): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
    settled();
  });
  answer.then(
    (result) => {
      if (aborted) return;
      settled();
      res.cork(() => finish(result));
    },
    (error: unknown) => {
      if (aborted) return;
      settled();
      res.cork(() => fail(error));
    },
  );
}
