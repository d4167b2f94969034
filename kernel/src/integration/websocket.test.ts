// The WebSocket protocol against an in-process kernel with the real bridge.

import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import WebSocket from 'ws';
import { counterPanel, startTestKernel, type TestKernel, TestSocket } from '../testing/kernel-harness.js';

describe('WebSocket protocol', () => {
  let kernel: TestKernel;

  beforeAll(async () => {
    kernel = await startTestKernel({
      WS_MAX_MESSAGE_BYTES: '8kb',
      WS_MAX_MESSAGES_PER_SECOND: '50',
      WS_HEARTBEAT_MS: '300',
    });
  });
  afterAll(async () => {
    await kernel.stop();
  });

  async function newPanel(definition: object = counterPanel): Promise<string> {
    return (await request(kernel.url).post('/panels').send(definition).expect(201)).body.id as string;
  }

  const open = (id: string) => TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);

  it('greets with CONNECTED and the state, runs TRIGGER and answers PING', async () => {
    const id = await newPanel();
    const client = await open(id);
    expect(await client.ofType('CONNECTED')).toMatchObject({
      panelId: id,
      state: { count: 0, loading: false },
      version: 0,
      tools: ['increment'],
    });
    client.send({ type: 'TRIGGER', tool: 'increment', args: { by: 3 }, requestId: 'r1' });
    expect(await client.ofType('RESULT')).toMatchObject({
      requestId: 'r1',
      result: { status: 'success', returnValue: 3, version: 1 },
    });
    client.send({ type: 'PING', id: 9 });
    expect(await client.ofType('PONG')).toMatchObject({ id: 9, time: expect.any(Number) });
    client.close();
  });

  it('sends PATCH and EVENT to every subscriber, including for HTTP triggers', async () => {
    const id = await newPanel({
      title: 'Broadcast',
      state: { count: 0 },
      tools: {
        bump: {
          capabilities: ['state:read:*', 'state:write:*', 'events:emit:*'],
          handler: "$state.count += 1; $emit('bumped', { to: $state.count })",
        },
      },
    });
    const a = await open(id);
    const b = await open(id);
    await Promise.all([a.ofType('CONNECTED'), b.ofType('CONNECTED')]);
    a.send({ type: 'TRIGGER', tool: 'bump', requestId: 1 });
    for (const client of [a, b]) {
      expect(await client.ofType('PATCH')).toEqual({
        type: 'PATCH',
        panelId: id,
        version: 1,
        mutations: [{ key: 'count', value: 1, operation: 'set' }],
      });
      expect(await client.ofType('EVENT')).toEqual({
        type: 'EVENT',
        panelId: id,
        name: 'bumped',
        payload: { to: 1 },
      });
    }
    await request(kernel.url).post(`/panels/${id}/trigger/bump`).type('json').expect(200);
    await b.next((message) => message.type === 'PATCH' && message.version === 2);
    a.close();
    b.close();
  });

  it('numbers the PATCHes of concurrent triggers with gap-free, increasing versions', async () => {
    const id = await newPanel({
      title: 'Concurrent',
      state: {},
      tools: {
        mark: { capabilities: ['state:write:*'], handler: '$state["k" + $args.n] = $args.n; return $args.n' },
      },
    });
    const client = await open(id);
    await client.ofType('CONNECTED');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        request(kernel.url).post(`/panels/${id}/trigger/mark`).send({ n }).expect(200),
      ),
    );
    expect(results.map((result) => result.body.version as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, index) => index + 1),
    );
    await client.next((message) => message.type === 'PATCH' && message.version === 20);
    const versions = client.messages
      .filter((message) => message.type === 'PATCH')
      .map((message) => message.version);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    const state = await request(kernel.url).get(`/panels/${id}/state`).expect(200);
    expect(Object.keys(state.body.state as object)).toHaveLength(20);
    expect(state.body.version).toBe(20);
    client.close();
  });

  it('stops PATCHes after UNSUBSCRIBE and resumes them with fresh state after SUBSCRIBE', async () => {
    const id = await newPanel();
    const client = await open(id);
    await client.ofType('CONNECTED');
    client.send({ type: 'UNSUBSCRIBE' });
    await client.ofType('UNSUBSCRIBED');
    await request(kernel.url).post(`/panels/${id}/trigger/increment`).send({ by: 1 }).expect(200);
    client.send({ type: 'PING' });
    await client.ofType('PONG');
    expect(client.messages.filter((message) => message.type === 'PATCH')).toEqual([]);
    client.send({ type: 'SUBSCRIBE' });
    expect(await client.ofType('SUBSCRIBED')).toMatchObject({ state: { count: 1 }, version: 1 });
    await request(kernel.url).post(`/panels/${id}/trigger/increment`).send({ by: 1 }).expect(200);
    expect(await client.ofType('PATCH')).toMatchObject({ version: 2 });
    client.close();
  });

  it('answers malformed messages with ERROR and keeps the connection usable', async () => {
    const id = await newPanel();
    const client = await open(id);
    await client.ofType('CONNECTED');
    client.send('this is not json');
    expect(await client.ofType('ERROR')).toMatchObject({ code: 'INVALID_JSON' });
    client.send({ type: 'DANCE' });
    await client.next((message) => message.type === 'ERROR' && message.code === 'MALFORMED_MESSAGE');
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.next((message) => message.type === 'ERROR' && String(message.message).includes('binary'));
    client.send({ type: 'TRIGGER', tool: 'nope', requestId: 'x' });
    expect(await client.next((message) => message.requestId === 'x')).toMatchObject({
      type: 'ERROR',
      code: 'TOOL_NOT_FOUND',
    });
    client.send({ type: 'TRIGGER', tool: 'increment', args: { by: 'a lot' }, requestId: 'y' });
    expect(await client.next((message) => message.requestId === 'y')).toMatchObject({
      type: 'ERROR',
      code: 'INVALID_ARGS',
      details: [{ path: '/by' }],
    });
    client.send({ type: 'TRIGGER', tool: 'increment', args: { by: 1 }, requestId: 'z' });
    expect(await client.next((message) => message.requestId === 'z')).toMatchObject({
      type: 'RESULT',
      result: { status: 'success' },
    });
    client.close();
  });

  it('closes with 1009 when a message exceeds WS_MAX_MESSAGE_BYTES', async () => {
    const id = await newPanel();
    const client = await open(id);
    await client.ofType('CONNECTED');
    client.send({ type: 'PING', padding: 'x'.repeat(10_000) });
    expect((await client.closed).code).toBe(1009);
  });

  it('drops flood messages beyond the rate with RATE_LIMITED and keeps serving', async () => {
    const id = await newPanel();
    const client = await open(id);
    await client.ofType('CONNECTED');
    for (let index = 0; index < 500; index += 1) client.send({ type: 'PING', id: index });
    await client.next((message) => message.type === 'ERROR' && message.code === 'RATE_LIMITED');
    await sleep(1100);
    const pongsBefore = client.messages.filter((message) => message.type === 'PONG').length;
    expect(pongsBefore).toBeLessThanOrEqual(60);
    client.send({ type: 'PING', id: 'after' });
    await client.next((message) => message.type === 'PONG' && message.id === 'after');
    await request(kernel.url).get('/health').expect(200);
    client.close();
  });

  it("accepts upgrades from the kernel's own origin and none from another site's page (403 ORIGIN_NOT_ALLOWED)", async () => {
    const id = await newPanel();
    const path = `${kernel.wsUrl}/panels/${id}/ws`;
    const own = await TestSocket.open(path, { origin: `http://${new URL(kernel.wsUrl).host}` });
    await own.ofType('CONNECTED');
    own.close();
    await expect(TestSocket.open(path, { origin: 'https://attacker.example' })).rejects.toThrow(
      'upgrade refused with 403',
    );
    await expect(TestSocket.open(path, { headers: { host: 'rebind.attacker.example' } })).rejects.toThrow(
      'upgrade refused with 421',
    );
  });

  it('drops a client that stops answering heartbeats', async () => {
    const id = await newPanel();
    const silent = new WebSocket(`${kernel.wsUrl}/panels/${id}/ws`, { autoPong: false });
    const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await new Promise((resolve) => silent.once('open', resolve));
    expect(await closed).toBe(1006);
    const metrics = await request(kernel.url).get('/metrics');
    expect(metrics.text).toMatch(/nexus_kernel_ws_dropped_total\{reason="heartbeat"\} [1-9]/);
  });

  it('closes subscribers with 4404 when their panel is deleted, and refuses unknown panels', async () => {
    const id = await newPanel();
    const client = await open(id);
    await client.ofType('CONNECTED');
    await request(kernel.url).delete(`/panels/${id}`).expect(200);
    expect(await client.closed).toEqual({ code: 4404, reason: 'panel deleted' });
    await expect(open(id)).rejects.toThrow('upgrade refused with 404');
    await expect(TestSocket.open(`${kernel.wsUrl}/elsewhere`)).rejects.toThrow('upgrade refused with 404');
    await expect(TestSocket.open(`${kernel.wsUrl}/panels/%E0%A4%A/ws`)).rejects.toThrow(
      'upgrade refused with 404',
    );
  });
});

describe('WebSocket backpressure', () => {
  it('drops a subscriber that does not read instead of buffering without bound', async () => {
    const kernel = await startTestKernel({ WS_MAX_BUFFERED_BYTES: '64kb', MEMORY_LIMIT_MB: '64' });
    try {
      const id = (
        await request(kernel.url)
          .post('/panels')
          .send({
            title: 'Firehose',
            tools: {
              blast: {
                capabilities: ['state:write:*'],
                handler: "$state.blob = 'x'.repeat(200000) + Math.random(); return 1",
              },
            },
          })
          .expect(201)
      ).body.id as string;
      const slow = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
      await slow.ofType('CONNECTED');
      (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const fast = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
      await fast.ofType('CONNECTED');
      let dropped = false;
      for (let round = 0; round < 200 && !dropped; round += 1) {
        await request(kernel.url).post(`/panels/${id}/trigger/blast`).type('json').expect(200);
        const metrics = await request(kernel.url).get('/metrics');
        dropped = /nexus_kernel_ws_dropped_total\{reason="slow_consumer"\} [1-9]/.test(metrics.text);
      }
      expect(dropped).toBe(true);
      // The reading client was not affected.
      fast.send({ type: 'PING', id: 'still-here' });
      await fast.next((message) => message.id === 'still-here');
      fast.close();
    } finally {
      await kernel.stop();
    }
  });
});
