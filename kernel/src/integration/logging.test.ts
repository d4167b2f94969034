// What the built kernel logs, read from a child process's stdout: a failed handler is a warn line
// a person can find (panel, tool, error code, request id), and probes stay out of the info log.

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
});
