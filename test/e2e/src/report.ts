// What the suite prints: one line per step and one per check, so a log reads as the list of what
// was verified, with the time each step took.

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)}s`;

export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

export function step(title: string): void {
  console.log(`\n==> e2e [${elapsed()}] ${title}`);
}

export function info(message: string): void {
  console.log(`    ${message}`);
}

/** Prints what is checked; throws CheckFailed (with what was seen) when it does not hold. */
export function check(condition: boolean, what: string, seen?: unknown): void {
  if (!condition) {
    const detail =
      seen === undefined ? '' : `: saw ${typeof seen === 'string' ? seen : JSON.stringify(seen)}`;
    throw new CheckFailed(`${what}${detail}`);
  }
  console.log(`    ok  ${what}`);
}

export function checkEqual<T>(actual: T, expected: T, what: string, context?: unknown): void {
  const seen = context === undefined ? (actual === undefined ? 'undefined' : actual) : { actual, context };
  check(JSON.stringify(actual) === JSON.stringify(expected), `${what} (${JSON.stringify(expected)})`, seen);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` naming
 * what was awaited and the last thing seen. `onWait` runs every `reportEveryMs` while waiting.
 */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  options: { intervalMs?: number; reportEveryMs?: number; onWait?: () => Promise<void> } = {},
): Promise<T> {
  const { intervalMs = 1000, reportEveryMs = 15_000, onWait } = options;
  const deadline = Date.now() + timeoutMs;
  let nextReport = Date.now() + reportEveryMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new CheckFailed(`${what}: not within ${Math.round(timeoutMs / 1000)}s${last}`);
    }
    if (onWait && Date.now() >= nextReport) {
      nextReport = Date.now() + reportEveryMs;
      await onWait();
    }
    await sleep(intervalMs);
  }
}
