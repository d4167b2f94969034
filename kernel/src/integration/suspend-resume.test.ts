// The suspend/resume loop with a real local HTTP server as the extension target: mutations made
// before an extension call reach WebSocket subscribers while the call is still pending.

import request from 'supertest';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { startTestKernel, type TestKernel, TestSocket } from '../testing/kernel-harness.js';

describe('suspend and resume through the http extension', () => {
  let target: HttpTarget;
  let kernel: TestKernel;
  let release: () => void = () => {};
  let requested: Promise<void> = Promise.resolve();
  let markRequested: () => void = () => {};

  beforeAll(async () => {
    target = await startHttpTarget();
    target.route('/data', (_request, _body, response) => {
      release = () => json(response, 200, { items: [1, 2, 3] });
      markRequested();
    });
    target.route('/echo', (_request, body, response) =>
      json(response, 201, { got: body === '' ? null : JSON.parse(body) }),
    );
    kernel = await startTestKernel({ HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}` });
  });
  afterAll(async () => {
    release();
    await kernel.stop();
    await target.close();
  });

  const loader = (url: string) => ({
    title: 'Loader',
    state: { loading: false, items: [] },
    extensions: ['http'],
    tools: {
      load: {
        capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
        handler: `$state.loading = true;\nconst response = await $ext.http.get(${JSON.stringify(url)});\n$state.items = response.body.items;\n$state.loading = false;\nreturn response.status;`,
      },
      save: {
        capabilities: ['ext:http'],
        handler: `const response = await $ext.http.post(${JSON.stringify(url.replace('/data', '/echo'))}, { a: 1 });\nreturn response.body;`,
      },
      probe: {
        capabilities: ['ext:http'],
        handler: 'try { await $ext.http.get($args.url); return "reached"; } catch (e) { return e.message; }',
      },
    },
  });

  it('broadcasts loading=true before the extension call returns, then the result', async () => {
    const id = (
      await request(kernel.url)
        .post('/panels')
        .send(loader(`${target.origin}/data`))
        .expect(201)
    ).body.id as string;
    const watcher = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
    await watcher.ofType('CONNECTED');
    requested = new Promise((resolve) => (markRequested = resolve));
    const trigger = request(kernel.url)
      .post(`/panels/${id}/trigger/load`)
      .send({})
      .then((response) => response);

    const loading = await watcher.ofType('PATCH');
    expect(loading).toMatchObject({
      version: 1,
      mutations: [{ key: 'loading', value: true, operation: 'set' }],
    });
    const progress = await watcher.ofType('PROGRESS');
    expect(progress).toMatchObject({
      panelId: id,
      handler: 'load',
      suspension: { extensionName: 'http', method: 'get' },
    });
    // The call's arguments stay with the execution: subscribers learn only what it waits for.
    expect(progress.suspension).toEqual({ extensionName: 'http', method: 'get' });
    // The extension call has reached the target, which has not answered yet.
    await requested;
    await request(kernel.url)
      .get(`/panels/${id}/state`)
      .expect(200)
      .then((response) =>
        expect(response.body).toEqual({
          state: { loading: true, items: [] },
          version: 1,
          epoch: expect.any(String),
        }),
      );

    release();
    const response = await trigger;
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'success',
      returnValue: 200,
      version: 2,
      metrics: { suspensions: 1 },
      stateMutations: [
        { key: 'loading', value: true, operation: 'set' },
        { key: 'items', value: [1, 2, 3], operation: 'set' },
        { key: 'loading', value: false, operation: 'set' },
      ],
    });
    const done = await watcher.next((message) => message.type === 'PATCH' && message.version === 2);
    expect(done.mutations).toEqual([
      { key: 'items', value: [1, 2, 3], operation: 'set' },
      { key: 'loading', value: false, operation: 'set' },
    ]);
    watcher.close();
  });

  it('sends JSON bodies and resumes over WebSocket TRIGGER with RESULT', async () => {
    const id = (
      await request(kernel.url)
        .post('/panels')
        .send(loader(`${target.origin}/data`))
        .expect(201)
    ).body.id as string;
    const client = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
    client.send({ type: 'TRIGGER', tool: 'save', requestId: 's1' });
    expect(
      await client.next((message) => message.type === 'PROGRESS' && message.requestId === 's1'),
    ).toMatchObject({ suspension: { method: 'post' } });
    expect(await client.ofType('RESULT')).toMatchObject({
      requestId: 's1',
      result: { status: 'success', returnValue: { got: { a: 1 } } },
    });
    client.close();
  });

  it('lets the handler see refused domains and unknown methods as catchable errors', async () => {
    const id = (
      await request(kernel.url)
        .post('/panels')
        .send(loader(`${target.origin}/data`))
        .expect(201)
    ).body.id as string;
    const refused = await request(kernel.url)
      .post(`/panels/${id}/trigger/probe`)
      .send({ url: 'http://127.0.0.2:9/x' })
      .expect(200);
    expect(refused.body.returnValue).toContain('DOMAIN_NOT_ALLOWED');
    const otherPort = await request(kernel.url)
      .post(`/panels/${id}/trigger/probe`)
      .send({ url: `http://127.0.0.1:${target.port + 1}/x` })
      .expect(200);
    expect(otherPort.body.returnValue).toContain('DOMAIN_NOT_ALLOWED');
    const reached = await request(kernel.url)
      .post(`/panels/${id}/trigger/probe`)
      .send({ url: `${target.origin}/echo` })
      .expect(200);
    expect(reached.body.returnValue).toBe('reached');
  });

  it('denies $ext without the ext capability and for extensions the panel did not list', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .send({
        title: 'No ext',
        tools: {
          call: {
            capabilities: ['ext:http'],
            handler: `return await $ext.http.get(${JSON.stringify(`${target.origin}/echo`)})`,
          },
        },
      })
      .expect(201);
    const result = await request(kernel.url)
      .post(`/panels/${created.body.id}/trigger/call`)
      .type('json')
      .expect(200);
    expect(result.body.status).toBe('error');
  });
});
