// Graceful shutdown of the built kernel as a child process: SIGTERM with a handler in flight.

import { rm } from 'node:fs/promises';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import {
  type ChildKernel,
  counterPanel,
  makeDataDir,
  postJson,
  startChildKernel,
  TestSocket,
} from '../testing/kernel-harness.js';

describe('graceful shutdown (child process)', () => {
  let target: HttpTarget;
  let dataDir: string;
  let release: () => void = () => {};
  let child: ChildKernel | undefined;

  beforeAll(async () => {
    target = await startHttpTarget();
    target.route('/slow', (_request, _body, response) => {
      release = () => json(response, 200, { value: 42 });
    });
    dataDir = await makeDataDir();
  });
  afterAll(async () => {
    release();
    child?.process.kill('SIGKILL');
    await target.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('fails /ready, refuses new work, finishes the in-flight handler, closes sockets with 1001, persists and exits 0', async () => {
    const env = { HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`, SHUTDOWN_GRACE_MS: '10000' };
    child = await startChildKernel(env, dataDir);
    const created = await postJson(`${child.url}/panels`, {
      title: 'Slow',
      state: { value: 0 },
      extensions: ['http'],
      tools: {
        fetch: {
          capabilities: ['state:read:*', 'state:write:*', 'ext:http'],
          handler: `const response = await $ext.http.get('${target.origin}/slow');\n$state.value = response.body.value;\nreturn $state.value;`,
        },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const socket = await TestSocket.open(`${child.wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');

    const inFlight = postJson(`${child.url}/panels/${id}/trigger/fetch`, {});
    await socket.ofType('PROGRESS');
    child.process.kill('SIGTERM');
    for (let attempt = 0; ; attempt += 1) {
      const ready = await fetch(`${child.url}/ready`);
      if (ready.status === 503) {
        expect(await ready.json()).toEqual({ status: 'draining' });
        break;
      }
      if (attempt > 100) throw new Error('/ready never failed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refused = await postJson(`${child.url}/panels`, counterPanel);
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'SHUTTING_DOWN' } } });
    await expect(TestSocket.open(`${child.wsUrl}/panels/${id}/ws`)).rejects.toThrow('503');

    release();
    expect(await inFlight).toMatchObject({ status: 200, body: { status: 'success', returnValue: 42 } });
    expect(await socket.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(await child.exited).toBe(0);
    expect(child.logs.join('\n')).toContain('"msg":"stopped"');

    child = await startChildKernel(env, dataDir);
    const state = await fetch(`${child.url}/panels/${id}/state`);
    expect(await state.json()).toEqual({ state: { value: 42 }, version: 1, epoch: expect.any(String) });
    child.process.kill('SIGINT');
    expect(await child.exited).toBe(0);
    child = undefined;
  });

  it('exits non-zero naming the variable, value and range on bad configuration', async () => {
    await expect(startChildKernel({ MEMORY_LIMIT_MB: '2' }, dataDir)).rejects.toThrow(
      /exited with 1 before listening:[\s\S]*MEMORY_LIMIT_MB="2" is invalid: expected an integer from 4 to 1024/,
    );
  });
});
