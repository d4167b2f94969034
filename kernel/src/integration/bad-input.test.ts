// Every bad input of the issue gets a clear 4xx with a code, and the kernel keeps serving.

import { connect } from 'node:net';
import request from 'supertest';
import { counterPanel, startTestKernel, type TestKernel } from '../testing/kernel-harness.js';

describe('bad input over HTTP', () => {
  let kernel: TestKernel;
  let panelId: string;

  beforeAll(async () => {
    kernel = await startTestKernel({
      MAX_STATE_BYTES: '2kb',
      BODY_LIMIT: '4kb',
      MAX_PANELS: '3',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
    });
    panelId = (await request(kernel.url).post('/panels').send(counterPanel).expect(201)).body.id as string;
  });
  afterAll(async () => {
    await kernel.stop();
  });

  it('malformed JSON is 400 INVALID_JSON', async () => {
    const response = await request(kernel.url)
      .post('/panels')
      .set('Content-Type', 'application/json')
      .send('{"title": ')
      .expect(400);
    expect(response.body).toMatchObject({
      error: { code: 'INVALID_JSON', message: expect.stringContaining('not valid JSON') },
      requestId: expect.any(String),
    });
  });

  it('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await request(kernel.url)
      .post('/panels')
      .set('Content-Type', 'text/plain')
      .send('title=x')
      .expect(415);
    expect(response.body.error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringContaining('text/plain'),
    });
    await request(kernel.url)
      .post(`/panels/${panelId}/trigger/increment`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('by=1')
      .expect(415);
  });

  it('an oversized body is 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await request(kernel.url)
      .post('/panels')
      .send({ title: 'big', state: { blob: 'x'.repeat(10_000) } })
      .expect(413);
    expect(response.body.error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining('BODY_LIMIT (4000 bytes)'),
    });
  });

  it('unknown panels, tools and routes are 404 with distinct codes', async () => {
    expect((await request(kernel.url).get('/panels/nope').expect(404)).body.error.code).toBe(
      'PANEL_NOT_FOUND',
    );
    expect((await request(kernel.url).get('/panels/nope/state').expect(404)).body.error.code).toBe(
      'PANEL_NOT_FOUND',
    );
    expect((await request(kernel.url).delete('/panels/nope').expect(404)).body.error.code).toBe(
      'PANEL_NOT_FOUND',
    );
    expect(
      (await request(kernel.url).post('/panels/nope/trigger/increment').send({ by: 1 }).expect(404)).body
        .error.code,
    ).toBe('PANEL_NOT_FOUND');
    const tool = await request(kernel.url).post(`/panels/${panelId}/trigger/decrement`).send({}).expect(404);
    expect(tool.body.error).toMatchObject({
      code: 'TOOL_NOT_FOUND',
      message: expect.stringContaining('tools: increment'),
    });
    expect((await request(kernel.url).get('/nothing-here').expect(404)).body.error.code).toBe(
      'ROUTE_NOT_FOUND',
    );
  });

  it("args that fail the tool's schema are 400 INVALID_ARGS with the path of each problem, before any handler runs", async () => {
    const response = await request(kernel.url)
      .post(`/panels/${panelId}/trigger/increment`)
      .send({ by: 'two', extra: true })
      .expect(400);
    expect(response.body.error.code).toBe('INVALID_ARGS');
    expect(response.body.error.details).toEqual(
      expect.arrayContaining([
        { path: '/by', message: 'must be number' },
        { path: '/extra', message: 'must NOT have additional properties' },
      ]),
    );
    const missing = await request(kernel.url)
      .post(`/panels/${panelId}/trigger/increment`)
      .type('json')
      .expect(400);
    expect(missing.body.error.details).toEqual([
      { path: '/by', message: "must have required property 'by'" },
    ]);
    await request(kernel.url)
      .get(`/panels/${panelId}/state`)
      .expect(200)
      .then((response) =>
        expect(response.body).toEqual({
          state: { count: 0, loading: false },
          version: 0,
          epoch: expect.any(String),
        }),
      );
  });

  it('a handler with a syntax error is 400 COMPILATION_ERROR with line and column', async () => {
    const response = await request(kernel.url)
      .post('/panels')
      .send({ title: 'Broken', tools: { bad: { handler: 'const a = 1;\nreturn a +;' } } })
      .expect(400);
    expect(response.body.error).toMatchObject({
      code: 'COMPILATION_ERROR',
      details: { path: '/tools/bad/handler', line: 2, column: expect.any(Number) },
    });
  });

  it('an invalid definition is 400 VALIDATION_FAILED listing each problem', async () => {
    const response = await request(kernel.url)
      .post('/panels')
      .send({
        title: '',
        colour: 'red',
        extensions: ['smtp'],
        tools: {
          'bad name!': { handler: 'return 1' },
          ok: { handler: 'return 1', capabilities: ['root'], timeoutMs: 999_999, args: { type: 'nonsense' } },
        },
      })
      .expect(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    const paths = (response.body.error.details as { path: string }[]).map((problem) => problem.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/title', '/', '/tools/bad name!', '/tools/ok/capabilities/0']),
    );
    const second = await request(kernel.url)
      .post('/panels')
      .send({
        title: 'x',
        extensions: ['smtp'],
        tools: { ok: { handler: 'return 1', timeoutMs: 999_999, args: { type: 'nonsense' } } },
      })
      .expect(400);
    expect(second.body.error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: '/extensions/0',
          message: expect.stringContaining('unknown extension "smtp"'),
        }),
        expect.objectContaining({
          path: '/tools/ok/timeoutMs',
          message: 'must be at most TIMEOUT_MS (3000)',
        }),
        expect.objectContaining({
          path: '/tools/ok/args',
          message: expect.stringContaining('invalid JSON Schema'),
        }),
      ]),
    );
    expect((await request(kernel.url).post('/panels').send([1, 2]).expect(400)).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('state beyond MAX_STATE_BYTES is refused at creation and when a handler grows it', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .send({ title: 'big', state: { blob: 'x'.repeat(3000) } })
      .expect(400);
    expect(created.body.error.details).toEqual([
      { path: '/state', message: expect.stringContaining('MAX_STATE_BYTES') },
    ]);
    const id = (
      await request(kernel.url)
        .post('/panels')
        .send({
          title: 'grower',
          state: { n: 0 },
          tools: {
            grow: {
              capabilities: ['state:write:*'],
              handler: "$state.blob = 'x'.repeat($args.size); return 1",
            },
          },
        })
        .expect(201)
    ).body.id as string;
    const grown = await request(kernel.url)
      .post(`/panels/${id}/trigger/grow`)
      .send({ size: 5000 })
      .expect(200);
    expect(grown.body).toMatchObject({
      status: 'error',
      error: { code: 'RESOURCE_LIMIT', message: expect.stringContaining('MAX_STATE_BYTES') },
    });
    await request(kernel.url)
      .get(`/panels/${id}/state`)
      .expect(200)
      .then((response) =>
        expect(response.body).toEqual({ state: { n: 0 }, version: 0, epoch: expect.any(String) }),
      );
    await request(kernel.url).post(`/panels/${id}/trigger/grow`).send({ size: 100 }).expect(200);
    await request(kernel.url).delete(`/panels/${id}`).expect(200);
  });

  it('too many panels is 409 PANEL_LIMIT_REACHED', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => request(kernel.url).post('/panels').send(counterPanel)),
    );
    expect(results.map((result) => result.status).sort()).toEqual([201, 201, 409]);
    const refused = results.find((result) => result.status === 409)!;
    expect(refused.body.error).toMatchObject({
      code: 'PANEL_LIMIT_REACHED',
      message: expect.stringContaining('MAX_PANELS'),
    });
  });

  it('a slow-loris client is cut off by the headers timeout', async () => {
    const socket = connect(Number(new URL(kernel.url).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const started = Date.now();
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(received).toContain('408');
  });

  it('still serves after all of the above', async () => {
    await request(kernel.url).get('/health').expect(200);
    await request(kernel.url).post(`/panels/${panelId}/trigger/increment`).send({ by: 1 }).expect(200);
  });
});
