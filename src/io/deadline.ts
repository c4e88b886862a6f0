/**
 * Waits for `work` at most `ms`: resolves with its value, or with undefined once the time is up
 * or when it fails. For shutdown steps that talk to a broker or Redis that may never answer; the
 * work itself is left to finish (or not) on its own.
 */
export async function within<T>(work: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (work === undefined) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.catch(() => undefined), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
