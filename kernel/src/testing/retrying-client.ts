// An HTTP client that behaves as the kernel's contract asks of a good client: a `429` or `503`
// with `Retry-After` means "not done, come back later", so it waits that long and tries again;
// any other answer is final. Its retries are bounded twice — attempts per request and a deadline
// shared by every request of a run — so a kernel that answers 503 forever makes the request end
// unserved (and the test that expects it served fail) instead of passing or hanging. Every
// attempt is recorded, so a test can show exactly which answers were wrong.

type Body = Record<string, unknown>;

export interface Attempt {
  /** HTTP status; 0 when no answer came (connection refused, reset, or this client's timeout). */
  readonly status: number;
  readonly body: Body;
  /** The `Retry-After` header in ms, when there was one that parses. */
  readonly retryAfterMs?: number;
}

/**
 * What an answer means to a client:
 * - `success`: 2xx, and a trigger's execution succeeded;
 * - `overloaded`: 429 or 503 with `Retry-After` — retry later, nothing was done;
 * - `refused`: 400 — the client's own fault;
 * - `wrong`: anything else (500, a 503 without `Retry-After`, an execution that failed such as
 *   `TIMEOUT`, no answer at all).
 */
export type Verdict = 'success' | 'overloaded' | 'refused' | 'wrong';

export function verdictOf(attempt: Attempt): Verdict {
  const { status, body } = attempt;
  if (status >= 200 && status < 300)
    return body.status === undefined || body.status === 'success' ? 'success' : 'wrong';
  if ((status === 429 || status === 503) && attempt.retryAfterMs !== undefined) return 'overloaded';
  if (status === 400) return 'refused';
  return 'wrong';
}

/** A short description of an answer, for failure messages: `400 INVALID_ARGS: …`. */
export function describeAttempt(attempt: Attempt): string {
  const error = (attempt.body.error ?? {}) as { code?: unknown; message?: unknown };
  const status = attempt.body.status;
  const code = typeof error.code === 'string' ? error.code : typeof status === 'string' ? status : '';
  const message = typeof error.message === 'string' ? `: ${error.message.slice(0, 200)}` : '';
  return `${attempt.status} ${code}${message}`;
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RetryLimits {
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  /** No attempt starts, and no wait ends, after this time (Date.now() ms). */
  readonly deadline: number;
  /** A `Retry-After` longer than this is waited for this long only. */
  readonly maxWaitMs: number;
  /** One attempt's answer is awaited this long at most. */
  readonly attemptTimeoutMs: number;
}

export interface Outcome {
  readonly attempts: readonly Attempt[];
  readonly final: Attempt;
  readonly verdict: Verdict;
}

async function once(method: string, url: string, body: unknown, timeoutMs: number): Promise<Attempt> {
  try {
    const response = await fetch(url, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      // The kernel runs no POST that does not say it carries JSON, body or not.
      ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' } }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: Body;
    try {
      parsed = JSON.parse(text) as Body;
    } catch {
      parsed = { text: text.slice(0, 200) };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return { status: response.status, body: parsed, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  } catch (error) {
    return { status: 0, body: { error: { code: 'NO_ANSWER', message: String(error) } } };
  }
}

export class RetryingClient {
  constructor(private readonly limits: RetryLimits) {}

  post(url: string, body: unknown): Promise<Outcome> {
    return this.request('POST', url, body);
  }

  get(url: string): Promise<Outcome> {
    return this.request('GET', url, undefined);
  }

  async request(method: string, url: string, body: unknown): Promise<Outcome> {
    const { maxAttempts, deadline, maxWaitMs, attemptTimeoutMs } = this.limits;
    const attempts: Attempt[] = [];
    for (;;) {
      const remaining = deadline - Date.now();
      const attempt = await once(method, url, body, Math.max(1, Math.min(attemptTimeoutMs, remaining)));
      attempts.push(attempt);
      const verdict = verdictOf(attempt);
      if (verdict !== 'overloaded' || attempts.length >= maxAttempts)
        return { attempts, final: attempt, verdict };
      // Retry-After is the least a client waits; a little jitter keeps retries from arriving as one wave.
      const wait = Math.min(attempt.retryAfterMs ?? 0, maxWaitMs) * (1 + Math.random() * 0.2);
      if (Date.now() + wait >= deadline) return { attempts, final: attempt, verdict };
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
