// Hostile handlers and clients against a kernel process: strings and values handed to the host
// are bounded, time budgets span every segment, queues and copies are bounded, values cross the
// boundary faithfully or as clear errors. /health answers throughout, RSS stays bounded.

import { rssMiB, underAttack } from '../testing/attack.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import {
  type ChildKernel,
  makeDataDir,
  panelClient,
  postJson,
  startChildKernel,
  TestSocket,
} from '../testing/kernel-harness.js';

type Body = Record<string, unknown>;

const all = ['state:read:*', 'state:write:*', 'events:emit:*', 'view:update:*', 'ext:http'];

describe('hostile handlers and clients', () => {
  let kernel: ChildKernel;
  let target: HttpTarget;

  beforeAll(async () => {
    target = await startHttpTarget();
    const deep = `${'['.repeat(300)}1${']'.repeat(300)}`;
    target.route('/deep', (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(deep);
    });
    target.route('/big', (_request, _body, response) => json(response, 200, { n: 2 ** 64 }));
    kernel = await startChildKernel(
      {
        TIMEOUT_MS: '500',
        MAX_INSTANCES: '4',
        MAX_STATE_BYTES: '4Mi',
        BODY_LIMIT: '4Mi',
        MAX_EVENTS: '1000',
        HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
      },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
    await target.close();
  });

  const create = (tools: Body, state: Body = {}) => panelClient(kernel.url, 'Hostile').create(tools, state);
  const trigger = (id: string, tool: string, args: unknown = {}) =>
    panelClient(kernel.url, 'Hostile').trigger(id, tool, args);

  it('ends floods of huge names and keys with RESOURCE_LIMIT, RSS bounded', async () => {
    const big = "const big = 'x'.repeat(4 * 1024 * 1024);";
    const id = await create({
      emit: { capabilities: all, handler: `${big} for (let i = 0; i < 100; i++) $emit(big + i);` },
      remove: { capabilities: all, handler: `${big} for (let i = 0; i < 50; i++) delete $state[big + i];` },
    });
    const before = rssMiB(kernel.process.pid!);
    const attack = await underAttack(kernel.url, async () => {
      const answers = [];
      for (let round = 0; round < 5; round++)
        answers.push(await trigger(id, 'emit'), await trigger(id, 'remove'));
      return answers;
    });
    for (const answer of attack.result)
      expect(answer.body).toMatchObject({ status: 'error', error: { code: 'RESOURCE_LIMIT' }, version: 0 });
    expect(attack.failedProbes).toBe(0);
    expect(rssMiB(kernel.process.pid!) - before).toBeLessThan(200);
  });

  it('bounds a handler’s CPU time across its segments', async () => {
    // Fixed work per segment, sized from a measured run to about a quarter of the 500 ms budget:
    // CPU time does not depend on how busy the machine is, so neither does the outcome.
    const work = 'let x = 0; for (let j = 0; j < $args.n; j++) x = (x + j) % 7;';
    const id = await create({
      once: { capabilities: all, handler: `${work} return x` },
      spin: {
        capabilities: all,
        handler: `for (let i = 0; i < 40; i++) { try { await $ext.http.get('http://blocked.example/') } catch {} ${work} } return 'ran on'`,
      },
    });
    const probe = 2_000_000;
    const measured = await trigger(id, 'once', { n: probe });
    expect(measured.body).toMatchObject({ status: 'success' });
    const cpuUs = (measured.body.metrics as Body).cpuTimeUs as number;
    expect(cpuUs).toBeGreaterThan(0);
    const n = Math.max(1, Math.round((probe * 125_000) / cpuUs));
    const answer = await trigger(id, 'spin', { n });
    expect(answer.body).toMatchObject({ status: 'error', error: { code: 'TIMEOUT' } });
    expect((answer.body.error as Body).message).toContain('CPU time');
    // Every segment fitted the budget, so only their sum can have spent it.
    const suspensions = (answer.body.metrics as Body).suspensions as number;
    expect(suspensions).toBeGreaterThanOrEqual(2);
    expect(suspensions).toBeLessThan(40);
  });

  it('serves 60 concurrent loops on a panel with a 1 MB state without copying it per job', async () => {
    const id = await create(
      {
        loop: {
          capabilities: all,
          handler: 'const t = Date.now(); while (Date.now() - t < 50); return $state.blob.length',
        },
      },
      { blob: 'x'.repeat(1024 * 1024) },
    );
    const before = rssMiB(kernel.process.pid!);
    const attack = await underAttack(kernel.url, () =>
      Promise.all(Array.from({ length: 60 }, () => trigger(id, 'loop'))),
    );
    expect(attack.result.map((answer) => answer.body.returnValue)).toEqual(Array(60).fill(1024 * 1024));
    expect(attack.failedProbes).toBe(0);
    expect(rssMiB(kernel.process.pid!) - before).toBeLessThan(200);
  });

  it('answers integers beyond 2^53 as numbers, over HTTP and WebSocket', async () => {
    const id = await create({
      big: { capabilities: all, handler: "$state.n = 2 ** 64; $emit('e', 9007199254740993); return 2 ** 70" },
      fetched: { capabilities: all, handler: `return (await $ext.http.get('${target.origin}/big')).body.n` },
    });
    const answer = await trigger(id, 'big');
    expect(answer.status).toBe(200);
    expect(typeof answer.body.returnValue).toBe('number');
    expect((await trigger(id, 'fetched')).body).toMatchObject({ status: 'success', returnValue: 2 ** 64 });
    const socket = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');
    socket.send({ type: 'TRIGGER', tool: 'big', requestId: 'b' });
    expect(await socket.ofType('RESULT')).toMatchObject({ requestId: 'b', result: { status: 'success' } });
    socket.close();
  });

  it('gives a catchable error for a too-deep extension response and leaves nothing parked', async () => {
    const id = await create({
      deep: {
        capabilities: all,
        handler: `try { await $ext.http.get('${target.origin}/deep'); return 'took it' } catch (e) { return 'caught: ' + e.message }`,
      },
    });
    const answer = await trigger(id, 'deep');
    expect(answer.body).toMatchObject({ status: 'success', returnValue: expect.stringContaining('caught:') });
    const health = (await (await fetch(`${kernel.url}/health`)).json()) as { runtime: Body };
    expect(health.runtime.suspendedInstances).toBe(0);
  });

  it('keeps a "__proto__" key an own key of the result', async () => {
    const id = await create({
      proto: { handler: 'return JSON.parse(\'{"__proto__": {"polluted": true}}\')' },
    });
    const response = await fetch(`${kernel.url}/panels/${id}/trigger/proto`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await response.text()).toContain('"returnValue":{"__proto__":{"polluted":true}}');
  });

  it('accepts every valid function body, refuses a wrapper escape with a clear message', async () => {
    const ok = await create({ g: { handler: 'var g = 1; function g() {} return typeof g' } });
    expect((await trigger(ok, 'g')).body).toMatchObject({ status: 'success', returnValue: 'number' });
    const escape = await postJson(`${kernel.url}/panels`, {
      title: 'Escape',
      tools: { e: { handler: '}, function(){ return 1' } },
    });
    expect(escape.status).toBe(400);
    expect(escape.body.error).toMatchObject({ code: 'COMPILATION_ERROR' });
  });

  it('gives every execution its own random numbers', async () => {
    const id = await create({ r: { handler: 'return [Math.random(), crypto.randomUUID()]' } });
    const answers = await Promise.all(Array.from({ length: 10 }, () => trigger(id, 'r')));
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body.returnValue))).size).toBe(10);
  });

  it('rate-limits SUBSCRIBE and sends a large state without re-encoding it per greeting', async () => {
    const id = await create({}, { blob: 'y'.repeat(1024 * 1024) });
    const socket = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');
    const attack = await underAttack(kernel.url, async () => {
      for (let i = 0; i < 580; i++) socket.send({ type: 'SUBSCRIBE' });
      await socket.next((message) => message.type === 'ERROR' && message.code === 'RATE_LIMITED');
      await new Promise((resolve) => setTimeout(resolve, 500));
    });
    const greetings = socket.messages.filter((message) => message.type === 'SUBSCRIBED').length;
    expect(greetings).toBeLessThanOrEqual(4);
    expect(attack.failedProbes).toBe(0);
    socket.close();
  });
});
