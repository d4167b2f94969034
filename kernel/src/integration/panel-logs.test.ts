// A panel's log lines beyond the execution result: the ring every kernel of the store shares
// (GET /panels/:id/logs), LOG messages to WebSocket subscribers that opt in (on any kernel), a
// failed mount's lines in its 422, the ring's bounds, and who may read the lines with auth on
// (a token whose scope includes panels:logs; any other valid token gets 403).

import { SignJWT } from 'jose';
import { eventually } from '../testing/eventually.js';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { type Fleet, startFleet } from '../testing/fleet.js';
import { postJson, startTestKernel, type TestKernel, TestSocket } from '../testing/kernel-harness.js';

interface RingLine {
  seq: number;
  at: number;
  level: string;
  message: string;
  tool: string;
  kind: string;
  source: string;
  requestId?: string;
}

async function readLogs(
  url: string,
  id: string,
  query = '',
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { last: number; lines: RingLine[]; error?: { code: string; message: string } };
}> {
  const response = await fetch(`${url}/panels/${id}/logs${query}`, { headers });
  return { status: response.status, body: (await response.json()) as never };
}

const chatty = {
  title: 'Chatty',
  state: { n: 0 },
  tools: {
    talk: {
      capabilities: ['state:read:n', 'state:write:n'],
      handler:
        "$state.n += 1; console.log('hello', $state.n); console.warn({ n: $state.n }); return $state.n",
    },
  },
};

describe.each(['embedded', 'redis'] as const)('panel logs on the %s store', (store) => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet(store, {}, 2);
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  it('puts console lines in the result, in the ring every kernel reads, and on opted-in sockets of every kernel', async () => {
    const a = fleet.at(0);
    const b = fleet.at(1);
    const created = await postJson(`${a.url}/panels`, chatty);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // Subscribers on the other kernel (the same one on the embedded store): opted in by the URL,
    // by SUBSCRIBE, and not at all.
    const byUrl = await TestSocket.open(`${b.wsUrl}/panels/${id}/ws?logs=1`);
    const bySubscribe = await TestSocket.open(`${b.wsUrl}/panels/${id}/ws`);
    const quiet = await TestSocket.open(`${b.wsUrl}/panels/${id}/ws`);
    await Promise.all([byUrl, bySubscribe, quiet].map((socket) => socket.ofType('CONNECTED')));
    bySubscribe.send({ type: 'SUBSCRIBE', logs: true });
    await bySubscribe.ofType('SUBSCRIBED');

    const answer = await postJson(`${a.url}/panels/${id}/trigger/talk`, {}, { 'x-request-id': 'req-logs-1' });
    expect(answer.status).toBe(200);
    expect(answer.body.logs).toEqual([
      { level: 'info', message: 'hello 1', atMs: expect.any(Number) },
      { level: 'warn', message: '{ n: 1 }', atMs: expect.any(Number) },
    ]);

    const expected = [
      {
        seq: 1,
        level: 'info',
        message: 'hello 1',
        tool: 'talk',
        kind: 'tool',
        source: 'handler',
        requestId: 'req-logs-1',
      },
      {
        seq: 2,
        level: 'warn',
        message: '{ n: 1 }',
        tool: 'talk',
        kind: 'tool',
        source: 'handler',
        requestId: 'req-logs-1',
      },
    ].map((line) => ({ ...line, revision: 1, at: expect.any(Number) }));
    const log = await byUrl.ofType('LOG');
    expect(log).toEqual({ type: 'LOG', panelId: id, lines: expected });
    await expect(bySubscribe.ofType('LOG')).resolves.toEqual(log);
    // The same store message reached every socket of the kernel at once: the quiet one had its PATCH, no LOG.
    await quiet.next((message) => message.type === 'PATCH' && message.version === 1);
    expect(quiet.messages.filter((message) => message.type === 'LOG')).toEqual([]);

    const ring = await eventually('the lines in the ring', async () => {
      const read = await readLogs(b.url, id);
      return read.body.lines?.length === 2 ? read : undefined;
    });
    expect(ring.status).toBe(200);
    expect(ring.body).toEqual({ panelId: id, last: 2, lines: expected });
    const at = ring.body.lines[0]!.at;
    expect(Math.abs(at - Date.now())).toBeLessThan(60_000);

    // A second execution; a reader that knows seq 2 gets only the new lines, a limit the newest.
    await postJson(`${b.url}/panels/${id}/trigger/talk`, {});
    await eventually('the second execution in the ring', async () =>
      (await readLogs(a.url, id)).body.last === 4 ? true : undefined,
    );
    expect((await readLogs(a.url, id, '?since=2')).body.lines.map((line) => line.message)).toEqual([
      'hello 2',
      '{ n: 2 }',
    ]);
    expect((await readLogs(a.url, id, '?limit=1')).body.lines.map((line) => line.seq)).toEqual([4]);
    expect((await readLogs(a.url, id, '?limit=0')).status).toBe(400);
    expect((await readLogs(a.url, 'no-such-panel')).status).toBe(404);

    // Opting out by SUBSCRIBE: no LOG for the next execution.
    bySubscribe.send({ type: 'SUBSCRIBE', logs: false });
    await bySubscribe.next((message) => message.type === 'SUBSCRIBED');
    const before = bySubscribe.messages.filter((message) => message.type === 'LOG').length;
    await postJson(`${a.url}/panels/${id}/trigger/talk`, {});
    await byUrl.next((message) => message.type === 'LOG' && (message.lines as RingLine[])[0]?.seq === 5);
    await bySubscribe.next((message) => message.type === 'PATCH' && message.version === 3);
    expect(bySubscribe.messages.filter((message) => message.type === 'LOG')).toHaveLength(before);
    for (const socket of [byUrl, bySubscribe, quiet]) socket.close();
  });

  it("returns a failed mount's lines in its 422 (the panel, and so its ring, is not kept)", async () => {
    const count = async () =>
      ((await (await fetch(`${fleet.at(1).url}/panels`)).json()) as { count: number }).count;
    const before = await count();
    const answer = await postJson(`${fleet.at(0).url}/panels`, {
      title: 'Fails',
      tools: { noop: { handler: 'return 1' } },
      lifecycle: { mount: { handler: "console.log('mounting'); throw new Error('no luck')" } },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({
      code: 'MOUNT_FAILED',
      details: {
        error: { message: expect.stringContaining('no luck') },
        logs: [
          { level: 'info', message: 'mounting', atMs: expect.any(Number) },
          expect.objectContaining({ level: 'error', message: expect.stringContaining('no luck') }),
        ],
      },
    });
    expect(await count()).toBe(before);
  });
});

describe('the log ring bounds, on a kernel', () => {
  let kernel: TestKernel;

  beforeAll(async () => {
    kernel = await startTestKernel({ PANEL_LOG_LINES: '5', PANEL_LOG_BYTES: '2Ki' });
  });
  afterAll(async () => {
    await kernel?.stop();
  });

  it('keeps the newest PANEL_LOG_LINES lines within PANEL_LOG_BYTES', async () => {
    const created = await postJson(`${kernel.url}/panels`, {
      title: 'Bounded',
      tools: {
        few: { handler: "for (let i = 0; i < 3; i++) console.log('line', i)" },
        wide: { handler: "console.log('w'.repeat(800)); console.log('v'.repeat(800))" },
      },
    });
    const id = created.body.id as string;
    for (let i = 0; i < 3; i += 1) await postJson(`${kernel.url}/panels/${id}/trigger/few`, {});
    const lines = await eventually('nine lines appended', async () => {
      const read = await readLogs(kernel.url, id);
      return read.body.last === 9 ? read.body.lines : undefined;
    });
    expect(lines.map((line) => line.seq)).toEqual([5, 6, 7, 8, 9]);
    await postJson(`${kernel.url}/panels/${id}/trigger/wide`, {});
    await postJson(`${kernel.url}/panels/${id}/trigger/wide`, {});
    const wide = await eventually('the wide lines', async () => {
      const read = await readLogs(kernel.url, id);
      return read.body.last === 13 ? read.body.lines : undefined;
    });
    const bytes = wide.reduce((sum, line) => sum + Buffer.byteLength(JSON.stringify(line)), 0);
    expect(bytes).toBeLessThanOrEqual(2048);
    expect(wide.map((line) => line.seq)).toEqual([12, 13]);
  });
});

describe('an execution the kernel ends', () => {
  let target: HttpTarget;
  let kernel: TestKernel;

  beforeAll(async () => {
    target = await startHttpTarget();
    // Answers after the execution's deadline has passed.
    target.route('/slow', (_request, _body, response) => {
      setTimeout(() => json(response, 200, { late: true }), 1500);
    });
    kernel = await startTestKernel({
      HTTP_ALLOWED_DOMAINS: `127.0.0.1:${target.port}`,
      TIMEOUT_MS: '500',
      EXECUTION_DEADLINE_MS: '1000',
    });
  });
  afterAll(async () => {
    await kernel?.stop();
    await target?.close();
  });

  it("ends with the kernel's line, in the result and in the ring", async () => {
    const created = await postJson(`${kernel.url}/panels`, {
      title: 'Late',
      extensions: ['http'],
      tools: {
        wait: {
          capabilities: ['ext:http'],
          handler: `console.log('asking'); await $ext.http.get('${target.origin}/slow'); console.log('never')`,
        },
      },
    });
    const id = created.body.id as string;
    const answer = await postJson(`${kernel.url}/panels/${id}/trigger/wait`, {});
    expect(answer.body).toMatchObject({ status: 'error', error: { code: 'TIMEOUT' } });
    expect(answer.body.logs).toEqual([
      { level: 'info', message: 'asking', atMs: expect.any(Number) },
      {
        level: 'error',
        message: expect.stringMatching(/^the kernel ended this execution: TIMEOUT: .*EXECUTION_DEADLINE_MS/),
        atMs: expect.any(Number),
      },
    ]);
    const lines = await eventually('the lines in the ring', async () => {
      const read = await readLogs(kernel.url, id);
      return read.body.last === 2 ? read.body.lines : undefined;
    });
    expect(lines.map((line) => [line.source, line.level, line.message.slice(0, 31)])).toEqual([
      ['handler', 'info', 'asking'],
      ['kernel', 'error', 'the kernel ended this execution'],
    ]);
  });
});

const secret = 'kernel-test-secret-with-enough-bytes!';

function token(scope?: string): Promise<string> {
  return new SignJWT({ sub: 'tester', ...(scope === undefined ? {} : { scope }) })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

describe('reading logs with auth on', () => {
  let kernel: TestKernel;
  let id: string;
  let plain: string;
  let reader: string;

  beforeAll(async () => {
    kernel = await startTestKernel({ JWT_SECRET: secret });
    plain = await token('panels:read');
    reader = await token('panels:read panels:logs');
    const created = await postJson(`${kernel.url}/panels`, chatty, { authorization: `Bearer ${plain}` });
    id = created.body.id as string;
    await postJson(`${kernel.url}/panels/${id}/trigger/talk`, {}, { authorization: `Bearer ${plain}` });
  });
  afterAll(async () => {
    await kernel?.stop();
  });

  it('refuses a token without the panels:logs scope with 403, over HTTP and WebSocket', async () => {
    const refused = await readLogs(kernel.url, id, '', { authorization: `Bearer ${plain}` });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('"panels:logs"'),
    });
    expect((await readLogs(kernel.url, id)).status).toBe(401);
    await expect(TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws?logs=1&token=${plain}`)).rejects.toThrow(
      'upgrade refused with 403',
    );
    // Without the opt-in the same token subscribes; asking by SUBSCRIBE is refused, and nothing changes.
    const socket = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws?token=${plain}`);
    await socket.ofType('CONNECTED');
    socket.send({ type: 'SUBSCRIBE', logs: true });
    await expect(socket.ofType('ERROR')).resolves.toMatchObject({ code: 'FORBIDDEN' });
    await postJson(`${kernel.url}/panels/${id}/trigger/talk`, {}, { authorization: `Bearer ${plain}` });
    await socket.next((message) => message.type === 'PATCH');
    expect(
      socket.messages.filter((message) => message.type === 'LOG' || message.type === 'SUBSCRIBED'),
    ).toEqual([]);
    socket.close();
  });

  it('lets a token with the scope read the ring and take LOG messages', async () => {
    const read = await readLogs(kernel.url, id, '', { authorization: `Bearer ${reader}` });
    expect(read.status).toBe(200);
    expect(read.body.lines.length).toBeGreaterThan(0);
    const socket = await TestSocket.open(`${kernel.wsUrl}/panels/${id}/ws?logs=1&token=${reader}`);
    await socket.ofType('CONNECTED');
    await postJson(`${kernel.url}/panels/${id}/trigger/talk`, {}, { authorization: `Bearer ${plain}` });
    await expect(socket.ofType('LOG')).resolves.toMatchObject({ panelId: id, lines: expect.any(Array) });
    socket.close();
  });
});
