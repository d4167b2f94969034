// Every HTTP route against a kernel started in-process with the real bridge.

import request from 'supertest';
import { counterPanel, startTestKernel, type TestKernel } from '../testing/kernel-harness.js';
import { checkMetrics } from '../testing/metrics-check.js';

describe('HTTP API', () => {
  let kernel: TestKernel;

  beforeAll(async () => {
    kernel = await startTestKernel();
  });
  afterAll(async () => {
    await kernel.stop();
  });

  it('GET /health reports status, version, uptime, panels and runtime stats', async () => {
    const response = await request(kernel.url).get('/health').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      uptime: expect.any(Number),
      panels: expect.any(Number),
      runtime: {
        initialised: true,
        activeInstances: expect.any(Number),
        availableInstances: expect.any(Number),
        memoryInUseBytes: expect.any(Number),
      },
    });
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('GET /ready is 200 once the sandbox is warm', async () => {
    await request(kernel.url).get('/ready').expect(200, { status: 'ready' });
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await request(kernel.url).get('/health').set('X-Request-Id', 'abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(kernel.url).get('/health').set('X-Request-Id', 'bad id\twith spaces');
    expect(replaced.headers['x-request-id']).not.toBe('bad id\twith spaces');
  });

  it('answers 405 with Allow for a documented path asked with another method, and 404 for unknown paths', async () => {
    const cases: [string, string, string][] = [
      ['put', '/panels', 'GET, HEAD, POST'],
      ['delete', '/health', 'GET, HEAD'],
      ['post', '/panels/some-id/state', 'GET, HEAD'],
      ['patch', '/panels/some-id/trigger/go', 'POST'],
      ['patch', '/panels/some-id', 'GET, HEAD, PUT, DELETE'],
      ['put', '/panels/some-id/definition', 'GET, HEAD'],
      ['get', '/panels/some-id/rollback', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await request(kernel.url)[method as 'put'](path).expect(405);
      expect(response.headers.allow).toBe(allow);
      expect(response.body.error).toMatchObject({
        code: 'METHOD_NOT_ALLOWED',
        message: `${path} answers ${allow}, not ${method.toUpperCase()}`,
      });
    }
    // Documented methods go on to their routes.
    await request(kernel.url).get('/panels/no-such-panel').expect(404);
    await request(kernel.url).post('/panels/no-such-panel/trigger/go').type('json').send({}).expect(404);
    await request(kernel.url).head('/health').expect(200);
    const unknown = await request(kernel.url).get('/no/such/route').expect(404);
    expect(unknown.body.error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('serves an OpenAPI document that asks for no credentials while auth is off', async () => {
    const document = await request(kernel.url).get('/openapi.json').expect(200);
    expect(document.body).not.toHaveProperty('security');
    expect(document.body.paths['/panels'].post.responses).not.toHaveProperty('401');
  });

  it('creates a panel, runs its tools and serves its state', async () => {
    const created = await request(kernel.url).post('/panels').send(counterPanel).expect(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ title: 'Counter', state: { count: 0, loading: false }, version: 0 });
    expect(created.body.wsUrl).toBe(`ws://127.0.0.1:${kernel.kernel.wsPort}/panels/${id}/ws`);
    expect(created.headers.location).toBe(`/panels/${id}`);

    const listed = await request(kernel.url).get('/panels').expect(200);
    expect(listed.body.panels).toContainEqual(
      expect.objectContaining({ id, title: 'Counter', tools: ['increment'] }),
    );

    const inspected = await request(kernel.url).get(`/panels/${id}`).expect(200);
    expect(inspected.body.tools.increment).toMatchObject({
      description: 'Add to the counter',
      capabilities: ['state:read:*', 'state:write:count'],
      timeoutMs: 3000,
    });

    const triggered = await request(kernel.url)
      .post(`/panels/${id}/trigger/increment`)
      .send({ by: 5 })
      .expect(200);
    expect(triggered.body).toMatchObject({
      status: 'success',
      returnValue: 5,
      stateMutations: [{ key: 'count', value: 5, operation: 'set' }],
      events: [],
      viewCommands: [],
      version: 1,
      metrics: { durationUs: expect.any(Number), cpuTimeUs: expect.any(Number), suspensions: 0 },
    });
    await request(kernel.url).post(`/panels/${id}/trigger/increment`).send({ by: 2 }).expect(200);
    await request(kernel.url)
      .get(`/panels/${id}/state`)
      .expect(200)
      .then((response) =>
        expect(response.body).toEqual({
          state: { count: 7, loading: false },
          version: 2,
          epoch: expect.any(String),
        }),
      );
  });

  it('returns handler failures as execution results with their code and location', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .send({
        title: 'Failing',
        tools: {
          boom: { handler: "const x = 1;\nthrow new Error('kaput');" },
          sneaky: { capabilities: ['state:read:*'], handler: '$state.secret = 1' },
        },
      })
      .expect(201);
    const boom = await request(kernel.url)
      .post(`/panels/${created.body.id}/trigger/boom`)
      .type('json')
      .expect(200);
    expect(boom.body).toMatchObject({
      status: 'error',
      error: { code: 'EXECUTION_ERROR', message: expect.stringContaining('kaput'), location: { line: 2 } },
    });
    const sneaky = await request(kernel.url)
      .post(`/panels/${created.body.id}/trigger/sneaky`)
      .send({})
      .expect(200);
    expect(sneaky.body).toMatchObject({
      status: 'error',
      error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('state:write:secret') },
    });
  });

  it('emits events and view commands', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .send({
        title: 'Events',
        tools: {
          go: {
            capabilities: ['events:emit:*', 'view:update:*'],
            handler: "$emit('saved', { ok: true }); $view.focus('search'); return 'done'",
          },
        },
      })
      .expect(201);
    const result = await request(kernel.url)
      .post(`/panels/${created.body.id}/trigger/go`)
      .type('json')
      .expect(200);
    expect(result.body.events).toEqual([{ name: 'saved', payload: { ok: true } }]);
    expect(result.body.viewCommands).toEqual([
      expect.objectContaining({ type: 'focus', componentId: 'search' }),
    ]);
  });

  it('runs mount on create and unmount on delete', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .send({
        title: 'Lifecycle',
        state: { loading: true },
        tools: {},
        lifecycle: {
          mount: {
            capabilities: ['state:write:*'],
            handler: "$state.loading = false; $state.mounted = 'yes'",
          },
          unmount: { capabilities: ['events:emit:*'], handler: "$emit('bye')" },
        },
      })
      .expect(201);
    expect(created.body.state).toEqual({ loading: false, mounted: 'yes' });
    expect(created.body.mount).toMatchObject({ status: 'success' });
    const deleted = await request(kernel.url).delete(`/panels/${created.body.id}`).expect(200);
    expect(deleted.body).toMatchObject({
      id: created.body.id,
      deleted: true,
      unmount: { status: 'success', events: [{ name: 'bye' }] },
    });
    await request(kernel.url).get(`/panels/${created.body.id}`).expect(404);
  });

  it('refuses a panel whose mount fails and does not keep it', async () => {
    const before = (await request(kernel.url).get('/panels')).body.count as number;
    const response = await request(kernel.url)
      .post('/panels')
      .send({ title: 'Broken mount', lifecycle: { mount: { handler: "throw new Error('no')" } } })
      .expect(422);
    expect(response.body.error).toMatchObject({
      code: 'MOUNT_FAILED',
      message: expect.stringContaining('EXECUTION_ERROR'),
    });
    expect((await request(kernel.url).get('/panels')).body.count).toBe(before);
  });

  it('compiles a handler source once and reuses its bytecode for every panel that has it', async () => {
    const hits = async (): Promise<number> => {
      const text = (await request(kernel.url).get('/metrics')).text;
      return Number(/nexus_kernel_bytecode_cache_total\{result="hit"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const definition = {
      title: 'Shared',
      tools: { a: { handler: 'return "shared source"' }, b: { handler: 'return "shared source"' } },
    };
    const before = await hits();
    await request(kernel.url).post('/panels').send(definition).expect(201);
    await request(kernel.url).post('/panels').send(definition).expect(201);
    expect((await hits()) - before).toBe(3);
  });

  it('serves Prometheus metrics from the kernel and the bridge', async () => {
    const response = await request(kernel.url).get('/metrics').expect(200);
    expect(response.headers['content-type']).toContain('text/plain');
    for (const name of [
      'nexus_kernel_http_request_duration_seconds_bucket',
      'nexus_kernel_handler_executions_total{kind="tool",status="success"}',
      'nexus_kernel_handler_duration_seconds_bucket',
      'nexus_bridge_instances_available',
      'nexus_kernel_store_up{kind="embedded"} 1',
      'nexus_kernel_store_operation_duration_seconds_bucket',
      'nexus_kernel_ws_connections',
      'nexus_kernel_bytecode_cache_total',
      'process_resident_memory_bytes',
      'nexus_bridge_',
    ]) {
      expect(response.text).toContain(name);
    }
    // One set of pool and bytecode-cache figures: the bridge's.
    expect(response.text).not.toMatch(/nexus_kernel_(pool|sandbox_cache)_/);
  });

  it('serves clean metrics (promtool check metrics), exactly as docs/observability.md lists them', async () => {
    const response = await request(kernel.url).get('/metrics').expect(200);
    expect(checkMetrics(response.text, 'Kernel')).toEqual([]);
    // The check itself fails on a metric the reference does not know.
    expect(
      checkMetrics(
        `${response.text}# HELP nexus_kernel_unlisted x\n# TYPE nexus_kernel_unlisted gauge\nnexus_kernel_unlisted 1\n`,
        'Kernel',
      ),
    ).toEqual(['nexus_kernel_unlisted is served but not documented']);
  });

  it('answers CORS preflights only for configured origins', async () => {
    const other = await startTestKernel({ CORS_ORIGINS: 'https://app.example' });
    try {
      const allowed = await request(other.url)
        .options('/panels')
        .set('Origin', 'https://app.example')
        .expect(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
      const denied = await request(other.url)
        .get('/health')
        .set('Origin', 'https://evil.example')
        .expect(200);
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await other.stop();
    }
  });
});
