// The built-in `http` extension: $ext.http.get(url, options?), .post(url, body?, options?),
// .put(url, body?, options?), .delete(url, options?). JSON in, JSON out. Only hosts allowed by
// HTTP_ALLOWED_DOMAINS are reached (redirects are followed by hand and checked hop by hop), each
// call has a timeout, at most HTTP_EXTENSION_MAX_CONCURRENCY calls run at once, and a response
// body larger than HTTP_EXTENSION_MAX_RESPONSE_BYTES is refused.

import { KernelError } from '../errors.js';
import { type DomainRule, isUrlAllowed } from './allowlist.js';
import type { Extension } from './host.js';
import { Semaphore } from './semaphore.js';

export interface HttpExtensionOptions {
  readonly allowedDomains: readonly DomainRule[];
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly maxResponseBytes: number;
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
}

function failed(message: string): KernelError {
  return new KernelError('EXTENSION_FAILED', message);
}

function parseOptions(value: unknown, defaultTimeoutMs: number): CallOptions {
  if (value === undefined || value === null) return { headers: {}, timeoutMs: defaultTimeoutMs };
  if (typeof value !== 'object' || Array.isArray(value))
    throw failed('options must be an object {headers?, timeoutMs?}');
  const { headers, timeoutMs, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw failed(
      `unknown option ${unknown.map((key) => `"${key}"`).join(', ')} (accepted: headers, timeoutMs)`,
    );
  const parsed: CallOptions = { headers: {}, timeoutMs: defaultTimeoutMs };
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
      throw failed('options.headers must be an object of strings');
    for (const [name, headerValue] of Object.entries(headers)) {
      if (typeof headerValue !== 'string') throw failed(`header "${name}" must be a string`);
      if (FORBIDDEN_HEADERS.has(name.toLowerCase())) throw failed(`header "${name}" may not be set`);
      parsed.headers[name] = headerValue;
    }
  }
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw failed('options.timeoutMs must be a positive integer');
    parsed.timeoutMs = Math.min(timeoutMs, defaultTimeoutMs);
  }
  return parsed;
}

function parseUrl(value: unknown, rules: readonly DomainRule[]): URL {
  if (typeof value !== 'string') throw failed('the first argument must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw failed(`"${value}" is not an absolute URL`);
  }
  if (!isUrlAllowed(url, rules)) {
    throw new KernelError(
      'DOMAIN_NOT_ALLOWED',
      `${url.protocol}//${url.host} is not in HTTP_ALLOWED_DOMAINS`,
    );
  }
  return url;
}

async function readCapped(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) throw failed(`the response body (${declared} bytes) is larger than ${limit} bytes`);
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) throw failed(`the response body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decodeBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (contentType !== null && /[/+]json\b/i.test(contentType)) {
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

  async function request(method: MethodName, args: readonly unknown[]): Promise<HttpResponse> {
    const hasBody = method === 'post' || method === 'put';
    let url = parseUrl(args[0], options.allowedDomains);
    const callOptions = parseOptions(hasBody ? args[2] : args[1], options.timeoutMs);
    const body = hasBody && args[1] !== undefined ? JSON.stringify(args[1]) : undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...callOptions.headers };
    if (body !== undefined) headers['content-type'] ??= 'application/json';

    const signal = AbortSignal.timeout(callOptions.timeoutMs);
    let release: (() => void) | undefined;
    try {
      release = await slots.acquire(signal);
      for (let hop = 0; ; hop += 1) {
        const response = await fetch(url, {
          method: METHODS[method],
          headers,
          body: body ?? null,
          redirect: 'manual',
          signal,
        });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          if (hop >= MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects`);
          url = parseUrl(new URL(location, url).href, options.allowedDomains);
          continue;
        }
        const text = await readCapped(response, options.maxResponseBytes);
        return {
          status: response.status,
          ok: response.ok,
          headers: Object.fromEntries(response.headers),
          body: decodeBody(text, response.headers.get('content-type')),
        };
      }
    } catch (error) {
      if (signal.aborted) {
        throw new KernelError(
          'EXTENSION_TIMEOUT',
          `${METHODS[method]} ${url.href} took longer than ${callOptions.timeoutMs} ms`,
        );
      }
      if (error instanceof KernelError) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw failed(
        `${METHODS[method]} ${url.href} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
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
