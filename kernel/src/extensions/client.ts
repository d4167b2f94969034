// One HTTP exchange of the `http` extension over node:http/https, connected only to the checked
// addresses of its target, with the response body read and decoded (gzip, deflate, br) under a
// byte cap.

import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type BrotliOptions, type ZlibOptions, brotliDecompress, gunzip, inflate } from 'node:zlib';
import { KernelError } from '../errors.js';
import type { Hop } from './redirect.js';
import { pinnedLookup, type Target } from './target.js';

export interface Agents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

/** Keep-alive pools of the extension; idle sockets close after a few seconds. */
export function createAgents(): Agents {
  const options = { keepAlive: true, timeout: 5000, maxFreeSockets: 64 };
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

/** Sends `hop` to `target` and resolves with the response head (the body is still to be read). */
export function send(
  hop: Hop,
  target: Target,
  agents: Agents,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const https = hop.url.protocol === 'https:';
  const headers: Record<string, string> = { ...hop.headers };
  if (hop.body !== undefined) headers['content-length'] = String(Buffer.byteLength(hop.body));
  return new Promise((resolve, reject) => {
    const outgoing = (https ? httpsRequest : httpRequest)(hop.url, {
      method: hop.method,
      headers,
      agent: https ? agents.https : agents.http,
      lookup: pinnedLookup(target),
      signal,
    });
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
    outgoing.end(hop.body);
  });
}

type Decoder = (
  input: Buffer,
  options: ZlibOptions | BrotliOptions,
  callback: (error: NodeJS.ErrnoException | null, result: Buffer) => void,
) => void;

const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: gunzip,
  'x-gzip': gunzip,
  deflate: inflate,
  br: brotliDecompress,
};

/** Decodes a compressed body on the libuv pool, to at most `limit` bytes. */
function decode(raw: Buffer, encoding: string, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const decoder = DECODERS[encoding];
  if (decoder === undefined) {
    return Promise.reject(
      new KernelError('EXTENSION_FAILED', `the response's content-encoding "${encoding}" is not supported`),
    );
  }
  return new Promise((resolve, reject) =>
    decoder(raw, { maxOutputLength: limit }, (error, result) => {
      if (error?.code === 'ERR_BUFFER_TOO_LARGE') reject(tooLarge());
      else if (error)
        reject(
          new KernelError(
            'EXTENSION_FAILED',
            `the response body does not decode as ${encoding}: ${error.message}`,
          ),
        );
      else resolve(result);
    }),
  );
}

/** The body as text; refuses more than `limit` bytes (declared, received or decoded). */
export async function readBody(response: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(response.headers['content-length'] ?? NaN);
  const tooLarge = (size = '') =>
    new KernelError('EXTENSION_FAILED', `the response body${size} is larger than ${limit} bytes`);
  if (declared > limit) {
    response.destroy();
    throw tooLarge(` (${declared} bytes)`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } finally {
    if (!response.complete) response.destroy();
  }
  const raw = Buffer.concat(chunks);
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const body =
    raw.byteLength === 0 || encoding === '' || encoding === 'identity'
      ? raw
      : await decode(raw, encoding, limit, tooLarge);
  return body.toString('utf8');
}

/** Response headers as one string per name (repeated headers joined with ", "). */
export function flatHeaders(response: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(response.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}
