// The built-in `http` extension: $ext.http.get(url, options?), .post(url, body?, options?),
// .put(url, body?, options?), .delete(url, options?). JSON in, JSON out. Only targets allowed by
// HTTP_ALLOWED_DOMAINS are reached, at addresses checked when the connection is made (target.ts);
// redirects are followed by hand, each hop checked the same way, credentials dropped when one
// leaves the origin (redirect.ts). Each call has a timeout, at most HTTP_EXTENSION_MAX_CONCURRENCY
// calls run at once, and a response body larger than HTTP_EXTENSION_MAX_RESPONSE_BYTES is refused.

import { KernelError } from '../errors.js';
import { type DomainRule, admitUrl } from './allowlist.js';
import { createAgents, flatHeaders, readBody, send } from './client.js';
import type { Extension } from './host.js';
import { type Hop, REDIRECT_STATUSES, nextHop } from './redirect.js';
import { Semaphore } from './semaphore.js';
import { type Resolver, resolveTarget, systemResolver } from './target.js';

export interface HttpExtensionOptions {
  readonly allowedDomains: readonly DomainRule[];
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly maxResponseBytes: number;
  /** Resolves host names; the system resolver (getaddrinfo) by default. */
  readonly resolver?: Resolver;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: Record<string, string>;
  body: unknown;
}

const METHODS = { get: 'GET', post: 'POST', put: 'PUT', delete: 'DELETE' } as const;
type MethodName = keyof typeof METHODS;
const MAX_REDIRECTS = 5;
const FORBIDDEN_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'upgrade']);

interface CallOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** Lower-case names of further headers to drop, like Authorization, when a redirect leaves the origin. */
  credentialHeaders: Set<string>;
}

const OPTION_NAMES = 'headers, timeoutMs, credentialHeaders';

function failed(message: string): KernelError {
  return new KernelError('EXTENSION_FAILED', message);
}

function parseHeaders(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw failed('options.headers must be an object of strings');
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue !== 'string') throw failed(`header "${name}" must be a string`);
    if (FORBIDDEN_HEADERS.has(name.toLowerCase())) throw failed(`header "${name}" may not be set`);
    headers[name] = headerValue;
  }
  return headers;
}

function parseOptions(value: unknown, defaultTimeoutMs: number): CallOptions {
  const parsed: CallOptions = { headers: {}, timeoutMs: defaultTimeoutMs, credentialHeaders: new Set() };
  if (value === undefined || value === null) return parsed;
  if (typeof value !== 'object' || Array.isArray(value))
    throw failed(`options must be an object {${OPTION_NAMES.replaceAll(', ', '?, ')}?}`);
  const { headers, timeoutMs, credentialHeaders, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw failed(`unknown option ${unknown.map((key) => `"${key}"`).join(', ')} (accepted: ${OPTION_NAMES})`);
  if (headers !== undefined) parsed.headers = parseHeaders(headers);
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw failed('options.timeoutMs must be a positive integer');
    parsed.timeoutMs = Math.min(timeoutMs, defaultTimeoutMs);
  }
  if (credentialHeaders !== undefined) {
    if (!Array.isArray(credentialHeaders) || !credentialHeaders.every((name) => typeof name === 'string'))
      throw failed('options.credentialHeaders must be an array of header names');
    parsed.credentialHeaders = new Set(credentialHeaders.map((name: string) => name.toLowerCase()));
  }
  return parsed;
}

function parseUrl(value: unknown): URL {
  if (typeof value !== 'string') throw failed('the first argument must be a URL string');
  try {
    return new URL(value);
  } catch {
    throw failed(`"${value}" is not an absolute URL`);
  }
}

/** A URL for messages: without its query, which may hold keys. */
function describe(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function decodeBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return null;
  if (contentType !== undefined && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw failed('the response claims to be JSON but does not parse');
    }
  }
  return text;
}

export function createHttpExtension(options: HttpExtensionOptions): Extension {
  const slots = new Semaphore(options.maxConcurrency);
  const agents = createAgents();
  const resolver = options.resolver ?? systemResolver;
  const rules = options.allowedDomains;

  async function request(method: MethodName, args: readonly unknown[]): Promise<HttpResponse> {
    const hasBody = method === 'post' || method === 'put';
    const url = parseUrl(args[0]);
    const admitted = admitUrl(url, rules);
    if (!admitted.allowed) throw new KernelError('DOMAIN_NOT_ALLOWED', admitted.reason);
    const callOptions = parseOptions(hasBody ? args[2] : args[1], options.timeoutMs);
    const body = hasBody && args[1] !== undefined ? JSON.stringify(args[1]) : undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...callOptions.headers };
    if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
    let hop: Hop = { method: METHODS[method], url, headers, ...(body === undefined ? {} : { body }) };

    const signal = AbortSignal.timeout(callOptions.timeoutMs);
    let release: (() => void) | undefined;
    try {
      release = await slots.acquire(signal);
      for (let redirects = 0; ; redirects += 1) {
        const target = await resolveTarget(hop.url, rules, resolver, signal);
        const response = await send(hop, target, agents, signal);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          response.destroy();
          if (redirects >= MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects`);
          hop = nextHop(hop, status, location, callOptions.credentialHeaders);
          continue;
        }
        const text = await readBody(response, options.maxResponseBytes);
        return {
          status,
          ok: status >= 200 && status < 300,
          headers: flatHeaders(response),
          body: decodeBody(text, response.headers['content-type']),
        };
      }
    } catch (error) {
      if (signal.aborted) {
        throw new KernelError(
          'EXTENSION_TIMEOUT',
          `${hop.method} ${describe(hop.url)} took longer than ${callOptions.timeoutMs} ms`,
        );
      }
      if (error instanceof KernelError) throw error;
      // A system error's code (ECONNREFUSED) says it best; Node's own ERR_* codes need their message.
      const { code, message } = error as { code?: string; message?: string };
      const reason = code !== undefined && !code.startsWith('ERR_') ? code : (message ?? String(error));
      throw failed(`${hop.method} ${describe(hop.url)} failed: ${reason}`);
    } finally {
      release?.();
    }
  }

  return {
    name: 'http',
    methods: Object.keys(METHODS),
    call: (method, args) => request(method as MethodName, args),
  };
}
