// A handler that floods its log against a kernel process: each execution keeps at most
// logLimits of lines (a marker says how many more were dropped), its time budget ends it, the
// kernel's memory stays bounded and /health answers throughout.

import { logLimits } from '@nexus/bridge/limits';
import { rssMiB, underAttack } from '../testing/attack.js';
import { type ChildKernel, makeDataDir, postJson, startChildKernel } from '../testing/kernel-harness.js';

interface Line {
  level: string;
  message: string;
}

/** RSS the kernel may grow by over the attack, MiB (docs/kernel.md, "Handler output"). */
const RSS_GROWTH_MIB = 200;
const FLOODS = 24;

describe('hostile handler logs', () => {
  let kernel: ChildKernel;

  beforeAll(async () => {
    kernel = await startChildKernel(
      // The flood is ended by its CPU time: host calls are not what stops it here.
      { TIMEOUT_MS: '300', MAX_INSTANCES: '4', MAX_HOST_CALLS: '10000000', LOG_LEVEL: 'info' },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
  });

  it('bounds the lines of a handler that logs in an endless loop', async () => {
    const created = await postJson(`${kernel.url}/panels`, {
      title: 'Flood',
      tools: {
        flood: { handler: "for (;;) console.log('x'.repeat(1e4))" },
        many: { handler: "for (let i = 0; i < 5000; i++) console.log('line', i); return 'done'" },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const before = rssMiB(kernel.process.pid!);
    const attack = await underAttack(kernel.url, () =>
      Promise.all(
        Array.from({ length: FLOODS }, (_, i) =>
          postJson(`${kernel.url}/panels/${id}/trigger/${i % 2 === 0 ? 'flood' : 'many'}`, {}),
        ),
      ),
    );
    for (const [i, answer] of attack.result.entries()) {
      expect(answer.status).toBe(200);
      const logs = answer.body.logs as Line[];
      const bytes = logs.reduce((sum, line) => sum + Buffer.byteLength(line.message), 0);
      if (i % 2 === 0) {
        expect(answer.body).toMatchObject({ status: 'error', error: { code: 'TIMEOUT' } });
        // The lines that fit, the marker, the error.
        expect(logs).toHaveLength(logLimits.maxLogBytes / logLimits.maxLogMessageBytes + 2);
        expect(logs.at(-2)).toMatchObject({
          level: 'warn',
          message: expect.stringContaining('more log lines were dropped'),
        });
        expect(logs.at(-1)).toMatchObject({ level: 'error', message: expect.stringContaining('timeoutMs') });
      } else {
        expect(answer.body).toMatchObject({ status: 'success', returnValue: 'done' });
        expect(logs).toHaveLength(logLimits.maxLogLines + 1);
        expect(logs.at(-1)!.message).toMatch(/^4900 more log lines were dropped/);
      }
      expect(bytes).toBeLessThanOrEqual(logLimits.maxLogBytes + 1024);
    }
    expect(attack.failedProbes).toBe(0);
    expect(rssMiB(kernel.process.pid!) - before).toBeLessThan(RSS_GROWTH_MIB);
    // The kernel's log got the kept lines, not the flood.
    const handlerLines = kernel.logs.filter((line) => line.includes('"source":"handler"'));
    expect(handlerLines.length).toBeLessThanOrEqual(FLOODS * (logLimits.maxLogLines + 2));
    expect((await fetch(`${kernel.url}/health`)).status).toBe(200);
  });
});
