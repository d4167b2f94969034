// What the built kernel logs, read from a child process's stdout: a failed handler is a warn line
// a person can find (panel, tool, error code, request id), a handler's console.* lines are in its
// results and in the log (source "handler"), and probes stay out of the info log.

import { rm } from 'node:fs/promises';
import {
  type ChildKernel,
  makeDataDir,
  postJson,
  startChildKernel,
  TestSocket,
} from '../testing/kernel-harness.js';

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function parsed(logs: readonly string[]): LogLine[] {
  return logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return []; // stderr chunks
    }
  });
}

/** Waits for a line the kernel writes after answering (the access log is written on 'finish'). */
async function logged(child: ChildKernel, match: (line: LogLine) => boolean): Promise<LogLine> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const found = parsed(child.logs).find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no matching log line; the kernel logged:\n${child.logs.join('\n')}`);
}

describe('kernel logs (child process)', () => {
  let dataDir: string;
  let child: ChildKernel | undefined;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    child = await startChildKernel({ LOG_LEVEL: 'debug' }, dataDir);
  });
  afterAll(async () => {
    child?.process.kill('SIGKILL');
    await child?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs a failed execution at warn with the panel, tool, error code and request id', async () => {
    const created = await postJson(`${child!.url}/panels`, {
      title: 'Failing',
      tools: {
        boom: { handler: 'undefinedName.value = 1' },
        fine: { handler: 'return 1' },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const failed = await postJson(
      `${child!.url}/panels/${id}/trigger/boom`,
      {},
      { 'X-Request-Id': 'req-boom-1' },
    );
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 'error' });
    const code = (failed.body.error as { code: string }).code;
    const warn = await logged(
      child!,
      (line) => line.msg === 'execution failed' && line.requestId === 'req-boom-1',
    );
    expect(warn).toMatchObject({ level: 'warn', panelId: id, tool: 'boom', code });

    const socket = await TestSocket.open(`${child!.wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');
    socket.send({ type: 'TRIGGER', tool: 'boom', requestId: 'ws-boom-1' });
    await socket.next((message) => message.requestId === 'ws-boom-1');
    const wsWarn = await logged(
      child!,
      (line) => line.msg === 'execution failed' && line.requestId === 'ws-boom-1',
    );
    expect(wsWarn).toMatchObject({ level: 'warn', panelId: id, tool: 'boom', code });
    socket.socket.close();
    await socket.closed;

    // A handler that succeeds leaves no warn line.
    const fine = await postJson(
      `${child!.url}/panels/${id}/trigger/fine`,
      {},
      { 'X-Request-Id': 'req-fine-1' },
    );
    expect(fine.body).toMatchObject({ status: 'success' });
    await logged(child!, (line) => line.msg === 'request' && line.requestId === 'req-fine-1');
    expect(
      parsed(child!.logs).filter((line) => line.level === 'warn' && line.requestId === 'req-fine-1'),
    ).toEqual([]);
  });

  it('logs probes at debug and other requests at info', async () => {
    for (const path of ['/health', '/ready', '/metrics', '/panels']) {
      const response = await fetch(`${child!.url}${path}`, {
        headers: { 'X-Request-Id': `probe${path.replace('/', '-')}` },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const levels = await Promise.all(
      ['/health', '/ready', '/metrics', '/panels'].map(async (path) => {
        const line = await logged(
          child!,
          (entry) => entry.msg === 'request' && entry.requestId === `probe${path.replace('/', '-')}`,
        );
        return [path, line.level];
      }),
    );
    expect(Object.fromEntries(levels)).toEqual({
      '/health': 'debug',
      '/ready': 'debug',
      '/metrics': 'debug',
      '/panels': 'info',
    });
  });
  it("returns a handler's console lines in the HTTP and WebSocket results and logs each with its panel, tool and request id", async () => {
    const created = await postJson(`${child!.url}/panels`, {
      title: 'Chatty',
      tools: {
        talk: {
          handler:
            "console.log('hello', $args.who, {n: 1}); console.debug('%d items', 3); console.warn('careful'); $log.error('bad'); return 1",
        },
        fail: { handler: "console.info('about to fail');\nnull.x" },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const expected = [
      { level: 'info', message: 'hello ann { n: 1 }', atMs: expect.any(Number) },
      { level: 'debug', message: '3 items', atMs: expect.any(Number) },
      { level: 'warn', message: 'careful', atMs: expect.any(Number) },
      { level: 'error', message: 'bad', atMs: expect.any(Number) },
    ];

    const answer = await postJson(
      `${child!.url}/panels/${id}/trigger/talk`,
      { who: 'ann' },
      { 'X-Request-Id': 'req-talk-1' },
    );
    expect(answer.body).toMatchObject({ status: 'success', returnValue: 1 });
    expect(answer.body.logs).toEqual(expected);
    for (const [level, msg] of [
      ['info', 'hello ann { n: 1 }'],
      ['debug', '3 items'],
      ['warn', 'careful'],
      ['error', 'bad'],
    ]) {
      const line = await logged(child!, (entry) => entry.requestId === 'req-talk-1' && entry.msg === msg);
      expect(line).toMatchObject({ level, source: 'handler', panelId: id, tool: 'talk', kind: 'tool' });
    }

    const socket = await TestSocket.open(`${child!.wsUrl}/panels/${id}/ws`);
    await socket.ofType('CONNECTED');
    socket.send({ type: 'TRIGGER', tool: 'talk', args: { who: 'ann' }, requestId: 'ws-talk-1' });
    const result = await socket.next((message) => message.requestId === 'ws-talk-1');
    expect(result).toMatchObject({ type: 'RESULT', result: { status: 'success' } });
    expect((result.result as { logs: unknown }).logs).toEqual(expected);
    const wsLine = await logged(
      child!,
      (entry) => entry.requestId === 'ws-talk-1' && entry.msg === 'careful',
    );
    expect(wsLine).toMatchObject({ level: 'warn', source: 'handler', panelId: id, tool: 'talk' });
    socket.socket.close();
    await socket.closed;

    // An uncaught error ends the lines with its message and where it was thrown.
    const failed = await postJson(
      `${child!.url}/panels/${id}/trigger/fail`,
      {},
      { 'X-Request-Id': 'req-fail-1' },
    );
    expect(failed.body).toMatchObject({ status: 'error', error: { code: 'EXECUTION_ERROR' } });
    const message = (failed.body.error as { message: string }).message;
    expect(failed.body.logs).toEqual([
      { level: 'info', message: 'about to fail', atMs: expect.any(Number) },
      { level: 'error', message, atMs: expect.any(Number), location: { line: 2, column: 1 } },
    ]);
    const errorLine = await logged(
      child!,
      (entry) => entry.requestId === 'req-fail-1' && entry.source === 'handler' && entry.level === 'error',
    );
    expect(errorLine).toMatchObject({
      msg: message,
      panelId: id,
      tool: 'fail',
      location: { line: 2, column: 1 },
    });
    // The kernel's own lines never carry the handler's mark.
    expect(
      parsed(child!.logs).filter((entry) => entry.msg === 'request' && entry.source !== undefined),
    ).toEqual([]);
  });
});
