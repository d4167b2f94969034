import { setTimeout as sleep } from 'node:timers/promises';
import { KernelError } from '../errors.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { parseAllowList } from './allowlist.js';
import { createHttpExtension } from './http.js';

describe('http extension against a real local server', () => {
  let target: HttpTarget;
  let other: HttpTarget;

  beforeAll(async () => {
    target = await startHttpTarget();
    other = await startHttpTarget();
    target.route('/item', (request, body, response) =>
      json(response, 200, {
        method: request.method,
        body: body === '' ? null : JSON.parse(body),
        type: request.headers['content-type'] ?? null,
      }),
    );
    target.route('/text', (_request, _body, response) =>
      response.writeHead(201, { 'content-type': 'text/plain' }).end('plain'),
    );
    target.route('/slow', async (_request, _body, response) => {
      await sleep(300);
      json(response, 200, { slow: true });
    });
    target.route('/big', (_request, _body, response) => json(response, 200, { blob: 'x'.repeat(5000) }));
    target.route('/hop', (_request, _body, response) => {
      response.writeHead(302, { location: '/item' }).end();
    });
    target.route('/away', (_request, _body, response) =>
      response.writeHead(302, { location: `${other.origin}/item` }).end(),
    );
    other.route('/item', (_request, _body, response) => json(response, 200, { reached: 'other' }));
  });
  afterAll(async () => {
    await target.close();
    await other.close();
  });

  function extension(overrides: Partial<Parameters<typeof createHttpExtension>[0]> = {}) {
    return createHttpExtension({
      allowedDomains: parseAllowList(`127.0.0.1:${target.port}`),
      timeoutMs: 2000,
      maxConcurrency: 4,
      maxResponseBytes: 1024,
      ...overrides,
    });
  }

  it('exposes get, post, put and delete', () => {
    expect(extension().methods).toEqual(['get', 'post', 'put', 'delete']);
  });

  it('sends JSON and decodes JSON responses', async () => {
    await expect(extension().call('post', [`${target.origin}/item`, { a: 1 }])).resolves.toMatchObject({
      status: 200,
      ok: true,
      body: { method: 'POST', body: { a: 1 }, type: 'application/json' },
    });
    await expect(extension().call('delete', [`${target.origin}/item`])).resolves.toMatchObject({
      body: { method: 'DELETE', body: null },
    });
    await expect(extension().call('get', [`${target.origin}/text`])).resolves.toMatchObject({
      status: 201,
      body: 'plain',
    });
    await expect(extension().call('get', [`${target.origin}/missing`])).resolves.toMatchObject({
      status: 404,
      ok: false,
    });
  });

  it('follows redirects only to allowed hosts', async () => {
    await expect(extension().call('get', [`${target.origin}/hop`])).resolves.toMatchObject({
      body: { method: 'GET' },
    });
    await expect(extension().call('get', [`${target.origin}/away`])).rejects.toMatchObject({
      code: 'DOMAIN_NOT_ALLOWED',
    });
  });

  it('refuses hosts and ports outside the allow-list', async () => {
    await expect(extension().call('get', [`${other.origin}/item`])).rejects.toMatchObject({
      code: 'DOMAIN_NOT_ALLOWED',
      message: `http://127.0.0.1:${other.port} is not in HTTP_ALLOWED_DOMAINS`,
    });
    await expect(
      extension({ allowedDomains: [] }).call('get', [`${target.origin}/item`]),
    ).rejects.toBeInstanceOf(KernelError);
  });

  it('reports bad arguments by name', async () => {
    await expect(extension().call('get', [42])).rejects.toThrow('the first argument must be a URL string');
    await expect(extension().call('get', ['not a url'])).rejects.toThrow(
      '"not a url" is not an absolute URL',
    );
    await expect(extension().call('get', [`${target.origin}/item`, { retries: 3 }])).rejects.toThrow(
      'unknown option "retries"',
    );
    await expect(
      extension().call('get', [`${target.origin}/item`, { headers: { Host: 'evil' } }]),
    ).rejects.toThrow('header "Host" may not be set');
  });

  it('times out slow calls', async () => {
    await expect(extension({ timeoutMs: 100 }).call('get', [`${target.origin}/slow`])).rejects.toMatchObject({
      code: 'EXTENSION_TIMEOUT',
    });
    await expect(extension().call('get', [`${target.origin}/slow`, { timeoutMs: 50 }])).rejects.toMatchObject(
      { code: 'EXTENSION_TIMEOUT' },
    );
  });

  it('refuses responses larger than the cap', async () => {
    await expect(extension().call('get', [`${target.origin}/big`])).rejects.toThrow('larger than 1024 bytes');
  });

  it('caps concurrent calls', async () => {
    const capped = extension({ maxConcurrency: 2 });
    target.concurrency.peak = 0;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => capped.call('get', [`${target.origin}/slow`])),
    );
    expect(results).toHaveLength(5);
    expect(target.concurrency.peak).toBe(2);
  });
});
