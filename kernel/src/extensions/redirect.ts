// The next request after a redirect, as the Fetch standard builds it: 303 (and 301/302 after a
// POST) become a bodiless GET, and credentials never follow the request to another origin.
// Pure: the caller checks the new URL against the allow-list like the first one.

import { KernelError } from '../errors.js';

export interface Hop {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that carry credentials: dropped when a redirect leaves the origin. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
]);

/** Headers that describe the body: dropped with it. */
const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);

function without(
  headers: Readonly<Record<string, string>>,
  names: ReadonlySet<string>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.has(name.toLowerCase())));
}

/**
 * The request to send for a `status` redirect to `location` (relative to the current URL).
 * `credentialHeaders` adds lower-case names the handler marked as credentials.
 */
export function nextHop(
  current: Hop,
  status: number,
  location: string,
  credentialHeaders: ReadonlySet<string> = new Set(),
): Hop {
  let url: URL;
  try {
    url = new URL(location, current.url);
  } catch {
    throw new KernelError('EXTENSION_FAILED', `the redirect to "${location}" is not a valid URL`);
  }
  let { method, headers, body } = current;
  if (
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  ) {
    method = 'GET';
    body = undefined;
    headers = without(headers, BODY_HEADERS);
  }
  if (url.origin !== current.url.origin) {
    headers = without(headers, new Set([...CREDENTIAL_HEADERS, ...credentialHeaders]));
  }
  return body === undefined ? { method, url, headers } : { method, url, headers, body };
}
