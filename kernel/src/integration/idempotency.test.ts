// Idempotent triggers (Idempotency-Key, a WebSocket TRIGGER's idempotencyKey): the same suite for
// three kernels on one Redis and one kernel on the embedded store. A retry with the key is
// answered with the first outcome on any kernel and applies nothing again; a key cannot stand for
// another request; an execution parked on `$ext` is not run twice; the records are bounded.

import { type Fleet, startFleet } from '../testing/fleet.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { sendJson, TestSocket } from '../testing/kernel-harness.js';

type Body = Record<string, unknown>;

let ids = 0;
const newId = (): string => `idem-${process.pid}-${(ids += 1)}`;

describe.each(['embedded', 'redis'] as const)('idempotent triggers (%s)', (store) => {
  let fleet: Fleet;
  let target: HttpTarget;
  let release: () => void = () => {};
  let reached: Promise<void> = Promise.resolve();
  let markReached: () => void = () => {};

  beforeAll(async () => {
    target = await startHttpTarget();
    target.route('/slow', (_request, _body, response) => {
      release = () => json(response, 200, { ok: true });
      markReached();
    });
    fleet = await startFleet(store, {
      HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
      MAX_INSTANCES: '8',
      IDEMPOTENCY_KEYS: '4',
      IDEMPOTENCY_RESULT_BYTES: '64',
    });
  }, 120_000);
  afterAll(async () => {
    release();
    await fleet.stop();
    await target.close();
  });

  const url = (i: number, path: string): string => `${fleet.at(i).url}${path}`;
  const trigger = (i: number, id: string, tool: string, args: Body, key?: string) =>
    sendJson(
      'POST',
      url(i, `/panels/${id}/trigger/${tool}`),
      args,
      key === undefined ? {} : { 'Idempotency-Key': key },
    );
  const state = async (id: string) =>
    ((await (await fetch(url(0, `/panels/${id}/state`))).json()) as Body).state as Body;

  async function panel(tools: Body = {}): Promise<string> {
    const id = newId();
    const created = await sendJson('PUT', url(0, `/panels/${id}`), {
      title: 'Idempotent',
      state: { count: 0 },
      extensions: ['http'],
      tools: {
        add: {
          capabilities: ['state:read:*', 'state:write:*'],
          handler: '$state.count += $args.by; console.log("added"); return $state.count',
        },
        read: { capabilities: ['state:read:*'], handler: 'return $state.count' },
        ...tools,
      },
    });
    expect(created.status).toBe(201);
    return id;
  }

  it('answers a retry with the first outcome on any kernel, and applies it once', async () => {
    const id = await panel();
    const first = await trigger(0, id, 'add', { by: 5 }, 'add-five');
    expect(first.body).toMatchObject({ status: 'success', returnValue: 5, version: 1 });
    expect(first.body).not.toHaveProperty('replayed');
    for (const kernel of [0, 1, 2]) {
      const again = await trigger(kernel, id, 'add', { by: 5 }, '"add-five"');
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        status: 'success',
        returnValue: 5,
        version: 1,
        replayed: true,
        stateMutations: [],
        logs: [],
      });
    }
    expect(await state(id)).toEqual({ count: 5 });
    // Another key is another request.
    expect((await trigger(1, id, 'add', { by: 5 }, 'add-five-again')).body).toMatchObject({
      returnValue: 10,
      version: 2,
    });
    // A request that wrote nothing is answered from its record too.
    expect((await trigger(0, id, 'read', {}, 'read-1')).body).toMatchObject({ returnValue: 10, version: 2 });
    await trigger(0, id, 'add', { by: 1 }, 'add-one');
    expect((await trigger(2, id, 'read', {}, 'read-1')).body).toMatchObject({
      returnValue: 10,
      version: 2,
      replayed: true,
    });
  });

  it('refuses a key used for another tool or other arguments, and a malformed key, running nothing', async () => {
    const id = await panel();
    await trigger(0, id, 'add', { by: 1 }, 'mine');
    for (const [tool, args] of [
      ['add', { by: 2 }],
      ['read', {}],
    ] as const) {
      const reused = await trigger(1, id, tool, args, 'mine');
      expect(reused).toMatchObject({ status: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
    }
    for (const key of ['', 'has space', 'x'.repeat(129), 'naïve', '"unterminated']) {
      const malformed = await trigger(0, id, 'add', { by: 1 }, key);
      expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'INVALID_IDEMPOTENCY_KEY' } } });
    }
    expect(await state(id)).toEqual({ count: 1 });
  });

  it('does not run a request parked on $ext twice: 409 with Retry-After meanwhile, its outcome after', async () => {
    const id = await panel({
      book: {
        capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
        handler: `$state.count += 1; await $ext.http.get(${JSON.stringify(`${target.origin}/slow`)}); $state.count += 10; return $state.count`,
      },
    });
    reached = new Promise((resolve) => (markReached = resolve));
    const parked = trigger(0, id, 'book', {}, 'book-1');
    await reached;
    const meanwhile = await trigger(1, id, 'book', {}, 'book-1');
    expect(meanwhile).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_IN_PROGRESS' } } });
    expect(Number(meanwhile.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    release();
    expect((await parked).body).toMatchObject({ status: 'success', returnValue: 11, version: 2 });
    expect((await trigger(2, id, 'book', {}, 'book-1')).body).toMatchObject({
      status: 'success',
      returnValue: 11,
      version: 2,
      replayed: true,
    });
    expect(await state(id)).toEqual({ count: 11 });
  });

  it('records how an execution failed after an applied segment, so a retry does not apply it again', async () => {
    const id = await panel({
      half: {
        capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
        handler: `$state.count += 1; await $ext.http.get(${JSON.stringify(`${target.origin}/slow`)}); throw new Error("second half failed")`,
      },
    });
    reached = new Promise((resolve) => (markReached = resolve));
    const running = trigger(0, id, 'half', {}, 'half-1');
    await reached;
    release();
    const first = (await running).body;
    expect(first).toMatchObject({
      status: 'error',
      version: 1,
      error: { message: expect.stringContaining('second half failed') },
    });
    const retried = await trigger(1, id, 'half', {}, 'half-1');
    expect(retried.body).toMatchObject({
      status: 'error',
      version: 1,
      replayed: true,
      error: first.error as Body,
    });
    expect(await state(id)).toEqual({ count: 1 });
  });

  it('replays a return value larger than IDEMPOTENCY_RESULT_BYTES without it, and says so', async () => {
    const id = await panel({
      big: { capabilities: ['state:write:*'], handler: '$state.big = true; return "x".repeat(100)' },
    });
    expect((await trigger(0, id, 'big', {}, 'big-1')).body).toMatchObject({ returnValue: 'x'.repeat(100) });
    const replay = (await trigger(1, id, 'big', {}, 'big-1')).body;
    expect(replay).toMatchObject({ status: 'success', version: 1, replayed: true, returnValueOmitted: true });
    expect(replay).not.toHaveProperty('returnValue');
  });

  it('keeps the last IDEMPOTENCY_KEYS records of a panel, and none of a deleted one', async () => {
    const id = await panel();
    for (const n of [1, 2, 3, 4, 5]) await trigger(0, id, 'add', { by: 1 }, `bounded-${n}`);
    // The oldest was forgotten: its retry is a new request.
    expect((await trigger(1, id, 'add', { by: 1 }, 'bounded-1')).body).toMatchObject({ version: 6 });
    expect((await trigger(1, id, 'add', { by: 1 }, 'bounded-5')).body).toMatchObject({
      version: 5,
      replayed: true,
    });
    expect(await state(id)).toEqual({ count: 6 });

    await fetch(url(0, `/panels/${id}`), { method: 'DELETE' });
    await sendJson('PUT', url(0, `/panels/${id}`), {
      title: 'Again',
      state: { count: 0 },
      tools: {
        add: { capabilities: ['state:read:*', 'state:write:*'], handler: '$state.count += $args.by' },
      },
    });
    expect((await trigger(2, id, 'add', { by: 1 }, 'bounded-5')).body).toMatchObject({ version: 1 });
    expect(await state(id)).toEqual({ count: 1 });
  });

  it('takes the key on a WebSocket TRIGGER too, one record for both protocols', async () => {
    const id = await panel();
    const socket = await TestSocket.open(`${fleet.at(1).wsUrl}/panels/${id}/ws`);
    try {
      await socket.ofType('CONNECTED');
      socket.send({ type: 'TRIGGER', tool: 'add', args: { by: 3 }, requestId: 'r1', idempotencyKey: 'ws-1' });
      const result = await socket.next((message) => message.type === 'RESULT' && message.requestId === 'r1');
      expect(result.result).toMatchObject({ returnValue: 3, version: 1 });
      socket.send({ type: 'TRIGGER', tool: 'add', args: { by: 3 }, requestId: 'r2', idempotencyKey: 'ws-1' });
      const again = await socket.next((message) => message.type === 'RESULT' && message.requestId === 'r2');
      expect(again.result).toMatchObject({ returnValue: 3, version: 1, replayed: true });
      socket.send({
        type: 'TRIGGER',
        tool: 'add',
        args: { by: 3 },
        requestId: 'r3',
        idempotencyKey: 'bad key',
      });
      const refused = await socket.next((message) => message.type === 'ERROR' && message.requestId === 'r3');
      expect(refused).toMatchObject({ code: 'INVALID_IDEMPOTENCY_KEY' });
    } finally {
      socket.close();
    }
    expect((await trigger(0, id, 'add', { by: 3 }, 'ws-1')).body).toMatchObject({
      version: 1,
      replayed: true,
    });
    expect(await state(id)).toEqual({ count: 3 });
  });
});
