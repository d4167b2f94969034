import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { KernelError } from '../errors.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { parseAllowList } from './allowlist.js';
import { createHttpExtension } from './http.js';
import type { Resolver } from './target.js';

describe('http extension against a real local server', () => {
  let target: HttpTarget;
  let other: HttpTarget;
  let otherHits = 0;

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
    target.route('/headers', (request, _body, response) => json(response, 200, request.headers));
    target.route('/same-origin', (_request, _body, response) =>
      response.writeHead(302, { location: '/headers' }).end(),
    );
    target.route('/cross-origin', (_request, _body, response) =>
      response.writeHead(307, { location: `${other.origin}/headers` }).end(),
    );
    target.route('/see-other', (_request, _body, response) =>
      response.writeHead(303, { location: '/item' }).end(),
    );
    target.route('/to-name', (request, _body, response) =>
      response.writeHead(302, { location: `http://inside.test:${other.port}/item` }).end(),
    );
    target.route('/to-file', (_request, _body, response) =>
      response.writeHead(302, { location: 'file:///etc/passwd' }).end(),
    );
    target.route('/loop', (_request, _body, response) =>
      response.writeHead(302, { location: '/loop' }).end(),
    );
    target.route('/gzip', (_request, _body, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        .end(gzipSync(JSON.stringify({ zipped: true }))),
    );
    target.route('/empty-gzip', (_request, _body, response) =>
      response.writeHead(204, { 'content-encoding': 'gzip' }).end(),
    );
    target.route('/bad-gzip', (_request, _body, response) =>
      response.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip'),
    );
    target.route('/zstd', (_request, _body, response) =>
      response.writeHead(200, { 'content-encoding': 'zstd' }).end('x'),
    );
    target.route('/bomb', (_request, _body, response) =>
      response.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(10 * 1024 ** 2))),
    );
    other.route('/item', (_request, _body, response) => {
      otherHits += 1;
      json(response, 200, { reached: 'other' });
    });
    other.route('/headers', (request, _body, response) => json(response, 200, request.headers));
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
    await expect(
      extension().call('get', [`${target.origin}/item`, { headers: { 'X-Bad': 'a\r\nInjected: 1' } }]),
    ).rejects.toThrow(`GET ${target.origin}/item failed: Invalid character in header content ["X-Bad"]`);
    await expect(
      extension().call('get', [`${target.origin}/item`, { credentialHeaders: 'x-api-key' }]),
    ).rejects.toThrow('options.credentialHeaders must be an array of header names');
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

  it('decodes compressed responses and caps what they decode to', async () => {
    await expect(extension().call('get', [`${target.origin}/gzip`])).resolves.toMatchObject({
      body: { zipped: true },
    });
    await expect(extension().call('get', [`${target.origin}/bomb`])).rejects.toThrow(
      'larger than 1024 bytes',
    );
    await expect(extension().call('get', [`${target.origin}/empty-gzip`])).resolves.toMatchObject({
      status: 204,
      body: null,
    });
    await expect(extension().call('get', [`${target.origin}/bad-gzip`])).rejects.toThrow(
      'the response body does not decode as gzip',
    );
    await expect(extension().call('get', [`${target.origin}/zstd`])).rejects.toThrow(
      'content-encoding "zstd" is not supported',
    );
  });

  it('keeps query strings out of its messages', async () => {
    await expect(
      extension({ timeoutMs: 100 }).call('get', [`${target.origin}/slow?api_key=hunter2`]),
    ).rejects.toThrow(new RegExp(`^GET ${target.origin}/slow took longer than 100 ms$`));
  });

  describe('resolved addresses', () => {
    /** A resolver that answers from a table and counts the questions. */
    function resolverOf(table: Record<string, string[]>): Resolver & { asked: string[] } {
      const asked: string[] = [];
      const resolve = (host: string) => {
        asked.push(host);
        return Promise.resolve((table[host] ?? []).map((address) => ({ address, family: 4 as const })));
      };
      return Object.assign(resolve, { asked });
    }

    it.each([
      ['127.0.0.1', 'loopback'],
      ['10.0.0.1', 'private'],
      ['169.254.169.254', 'cloud metadata'],
    ])('refuses an allowed name that resolves to %s (%s)', async (address, kind) => {
      const hits = otherHits;
      const resolver = resolverOf({ 'victim.test': [address] });
      const http = extension({ allowedDomains: parseAllowList(`victim.test:${other.port}`), resolver });
      await expect(http.call('get', [`http://victim.test:${other.port}/item`])).rejects.toMatchObject({
        code: 'ADDRESS_NOT_ALLOWED',
        message: expect.stringContaining(`victim.test resolves to ${address} (${kind})`),
      });
      expect(otherHits).toBe(hits);
    });

    it('reaches a private address that an address or CIDR entry lists on purpose', async () => {
      const resolver = resolverOf({ 'victim.test': ['127.0.0.1'] });
      for (const entry of [`127.0.0.1:${other.port}`, '127.0.0.0/8', `127.0.0.0/8:${other.port}`]) {
        const http = extension({ allowedDomains: parseAllowList(`victim.test, ${entry}`), resolver });
        await expect(http.call('get', [`http://victim.test:${other.port}/item`])).resolves.toMatchObject({
          body: { reached: 'other' },
        });
      }
      const wrongPort = extension({
        allowedDomains: parseAllowList(`victim.test, 127.0.0.1:${target.port}`),
        resolver,
      });
      await expect(wrongPort.call('get', [`http://victim.test:${other.port}/item`])).rejects.toMatchObject({
        code: 'ADDRESS_NOT_ALLOWED',
      });
    });

    describe('DNS rebinding', () => {
      let victim: Server;
      let victimHits = 0;

      beforeAll(async () => {
        // Same port as the target, on another loopback address.
        victim = createServer((_request, response) => {
          victimHits += 1;
          json(response, 200, { reached: 'victim' });
        });
        await new Promise<void>((resolve) => victim.listen(target.port, '127.0.0.2', resolve));
      });
      afterAll(async () => {
        victim.closeAllConnections();
        await new Promise((resolve) => victim.close(resolve));
      });

      it('connects to the address it checked, never to a second answer', async () => {
        const asked: string[] = [];
        const rebinding: Resolver = (host) => {
          asked.push(host);
          return Promise.resolve([{ address: asked.length === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }]);
        };
        const http = extension({
          allowedDomains: parseAllowList(`rebind.test, 127.0.0.1:${target.port}`),
          resolver: rebinding,
        });
        await expect(http.call('get', [`http://rebind.test:${target.port}/item`])).resolves.toMatchObject({
          body: { method: 'GET' },
        });
        expect(asked).toEqual(['rebind.test']);
        // The next call gets the second answer, which is checked like the first.
        await expect(http.call('get', [`http://rebind.test:${target.port}/item`])).rejects.toMatchObject({
          code: 'ADDRESS_NOT_ALLOWED',
          message: expect.stringContaining('rebind.test resolves to 127.0.0.2 (loopback)'),
        });
        expect(victimHits).toBe(0);
      });
    });
  });

  describe('redirects', () => {
    const credentials = {
      Authorization: 'Bearer handler-secret',
      Cookie: 'session=handler',
      'X-Api-Key': 'handler-key',
      'X-Trace': 'kept',
    };
    const both = () =>
      extension({ allowedDomains: parseAllowList(`127.0.0.1:${target.port}, 127.0.0.1:${other.port}`) });

    it('keeps credentials on a same-origin redirect', async () => {
      const result = (await both().call('get', [
        `${target.origin}/same-origin`,
        { headers: credentials },
      ])) as {
        body: Record<string, string>;
      };
      expect(result.body).toMatchObject({
        authorization: 'Bearer handler-secret',
        cookie: 'session=handler',
        'x-api-key': 'handler-key',
      });
    });

    it('drops Authorization, Cookie and marked headers on a cross-origin redirect', async () => {
      const result = (await both().call('post', [
        `${target.origin}/cross-origin`,
        { a: 1 },
        { headers: credentials, credentialHeaders: ['x-api-key'] },
      ])) as { body: Record<string, string> };
      expect(result.body).not.toHaveProperty('authorization');
      expect(result.body).not.toHaveProperty('cookie');
      expect(result.body).not.toHaveProperty('x-api-key');
      expect(result.body).toMatchObject({ 'x-trace': 'kept', 'content-type': 'application/json' });
    });

    it('checks every hop: scheme, allow-list and resolved address', async () => {
      await expect(extension().call('get', [`${target.origin}/to-file`])).rejects.toMatchObject({
        code: 'DOMAIN_NOT_ALLOWED',
        message: 'file: URLs are not supported (only http and https)',
      });
      const hits = otherHits;
      const resolver: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      const named = extension({
        allowedDomains: parseAllowList(`127.0.0.1:${target.port}, inside.test`),
        resolver,
      });
      await expect(named.call('get', [`${target.origin}/to-name`])).rejects.toMatchObject({
        code: 'ADDRESS_NOT_ALLOWED',
      });
      expect(otherHits).toBe(hits);
    });

    it('turns a POST into a GET on 303 and stops after 5 hops', async () => {
      await expect(extension().call('post', [`${target.origin}/see-other`, { a: 1 }])).resolves.toMatchObject(
        {
          body: { method: 'GET', body: null, type: null },
        },
      );
      await expect(extension().call('get', [`${target.origin}/loop`])).rejects.toThrow(
        'more than 5 redirects',
      );
    });
  });
});
