// Reading the errors client-node throws: the HTTP status of a failed request, and a one-line
// description for logs and condition messages. Every layer imports these from here.

/** The HTTP status code of a failed API request, when the error carries one. */
export function statusCode(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

/** A short description of an error: the API server's Status message when there is one. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; body?: unknown };
    const body = typeof e.body === 'string' ? e.body : e.body ? JSON.stringify(e.body) : '';
    const parsed = statusMessage(body);
    const code = typeof e.code === 'number' || typeof e.code === 'string' ? `${e.code} ` : '';
    if (parsed) return `${code}${parsed}`;
    if (typeof e.message === 'string') return `${code}${e.message}`.slice(0, 500);
  }
  return String(err).slice(0, 500);
}

function statusMessage(body: string): string | undefined {
  if (!body) return undefined;
  try {
    const status = JSON.parse(body) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : undefined;
  } catch {
    return undefined;
  }
}
