// Polling with generous bounds: cluster tests wait for convergence, they never assert on timing.

export interface EventuallyOptions {
  /** Upper bound; reaching it fails the test with the last observation. */
  timeoutMs?: number;
  intervalMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_INTERVAL_MS = 500;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a value other than `undefined` (or `false`) without throwing,
 * and returns that value. On timeout, throws an error naming `what` and the last failure.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  let last = 'no result yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = `probe returned ${String(value)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}; last: ${last}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Checks that `probe` keeps holding for `durationMs` (for "nothing happens" assertions such as
 * "no rollout"): throws as soon as it returns false or throws.
 */
export async function consistently(
  what: string,
  probe: () => Promise<boolean> | boolean,
  durationMs: number,
  intervalMs = DEFAULT_INTERVAL_MS,
): Promise<void> {
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    if (!(await probe()))
      throw new Error(`expected ${what} to hold for ${durationMs / 1000}s, but it changed`);
    await sleep(intervalMs);
  }
}
