// A handler that floods its log against a kernel process: each execution keeps at most
// logLimits of lines (a marker says how many more were dropped), its time budget ends it, the
// kernel's memory stays bounded and /health answers throughout. Many panels flooding at once
// keep each panel's log ring within PANEL_LOG_LINES and PANEL_LOG_BYTES, the kernel's queue of
// lines for the store within LOG_QUEUE_MAX_BYTES (what does not fit is dropped and counted), and
// a quiet panel's triggers keep working.

import { logLimits } from '@nexus/bridge/limits';
import { rssMiB, sampleRss, underAttack } from '../testing/attack.js';
import { type ChildKernel, makeDataDir, postJson, startChildKernel } from '../testing/kernel-harness.js';
import { startRedis, type TestRedis } from '../testing/redis-server.js';

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
      // The flood is ended by its CPU time: host calls are not what stops it here. The executions
      // of one panel run one after another, so the last of 24 waits for the others: on a busy
      // machine longer than the default EXECUTION_DEADLINE_MS (it would be a retryable 429).
      {
        TIMEOUT_MS: '300',
        MAX_INSTANCES: '4',
        MAX_HOST_CALLS: '10000000',
        LOG_LEVEL: 'info',
        EXECUTION_DEADLINE_MS: '110000',
      },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
  });

  // Each flood ends after its CPU budget (TIMEOUT_MS), not its wall time: 24 at once take several
  // times longer on a busy machine.
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
  }, 120_000);
});

/** Panels flooding their rings at once, and executions of each (every one logs logLimits' most). */
const FLOOD_PANELS = 24;
const FLOOD_EXECUTIONS = 20;
/** Triggers in flight at once during the flood. */
const FLOOD_CONCURRENCY = 16;
/** The ring's default bounds (PANEL_LOG_LINES, PANEL_LOG_BYTES). */
const RING_LINES = 200;
const RING_BYTES = 256 * 1024;
/**
 * What Redis may hold beyond the rings' own bounds (FLOOD_PANELS × RING_BYTES): the panels, the
 * list encoding's overhead per line, its allocator's rounding and its buffers, MiB.
 */
const REDIS_HEADROOM_MIB = 24;

async function usedMemory(redis: TestRedis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.cli('INFO', 'memory'))?.[1]);
}

describe('a log flood from many panels on a shared store', () => {
  let redis: TestRedis;
  let kernel: ChildKernel;

  beforeAll(async () => {
    redis = await startRedis();
    kernel = await startChildKernel(
      { STORE_URL: redis.url, MAX_INSTANCES: '4', LOG_LEVEL: 'info' },
      await makeDataDir(),
    );
  }, 60_000);
  afterAll(async () => {
    kernel?.process.kill('SIGTERM');
    await kernel?.exited;
    await redis?.stop();
  });

  it("keeps every ring and the kernel bounded, and another panel's triggers working", async () => {
    const lineBytes = Math.floor(logLimits.maxLogBytes / logLimits.maxLogLines) - 16;
    const floods: string[] = [];
    for (let i = 0; i < FLOOD_PANELS; i += 1) {
      const created = await postJson(`${kernel.url}/panels`, {
        title: `Flood ${i}`,
        tools: {
          flood: {
            handler: `for (let i = 0; i < ${logLimits.maxLogLines}; i++) console.log(String(i).padEnd(${lineBytes}, 'x'))`,
          },
        },
      });
      expect(created.status).toBe(201);
      floods.push(created.body.id as string);
    }
    const quiet = await postJson(`${kernel.url}/panels`, {
      title: 'Quiet',
      state: { n: 0 },
      tools: {
        bump: { capabilities: ['state:read:n', 'state:write:n'], handler: '$state.n += 1; return $state.n' },
      },
    });
    const quietId = quiet.body.id as string;
    const memoryBefore = await usedMemory(redis);
    const rss = sampleRss(kernel.process.pid!);
    const before = rssMiB(kernel.process.pid!);
    const jobs = floods.flatMap((id) => Array.from({ length: FLOOD_EXECUTIONS }, () => id));
    const attack = await underAttack(kernel.url, async () => {
      const statuses: number[] = [];
      const workers = Array.from({ length: FLOOD_CONCURRENCY }, async () => {
        for (let id = jobs.shift(); id !== undefined; id = jobs.shift())
          statuses.push((await postJson(`${kernel.url}/panels/${id}/trigger/flood`, {})).status);
      });
      // The quiet panel, triggered one after another while the flood runs.
      const bumps: unknown[] = [];
      const quietWorker = (async () => {
        for (let i = 0; i < 20; i += 1)
          bumps.push((await postJson(`${kernel.url}/panels/${quietId}/trigger/bump`, {})).body);
      })();
      await Promise.all([...workers, quietWorker]);
      return { statuses, bumps };
    });
    const peak = rss.stop();
    expect(attack.result.statuses.every((status) => status === 200)).toBe(true);
    expect(attack.result.bumps).toHaveLength(20);
    attack.result.bumps.forEach((body, i) =>
      expect(body).toMatchObject({ status: 'success', returnValue: i + 1 }),
    );
    expect(attack.failedProbes).toBe(0);
    expect(peak - before).toBeLessThan(RSS_GROWTH_MIB);

    // Every ring within its bounds, holding the newest lines.
    for (const id of floods) {
      const read = await fetch(`${kernel.url}/panels/${id}/logs`);
      expect(read.status).toBe(200);
      const body = (await read.json()) as { last: number; lines: { seq: number }[] };
      expect(body.lines.length).toBeGreaterThan(0);
      expect(body.lines.length).toBeLessThanOrEqual(RING_LINES);
      const bytes = body.lines.reduce((sum, line) => sum + Buffer.byteLength(JSON.stringify(line)), 0);
      expect(bytes).toBeLessThanOrEqual(RING_BYTES);
      expect(body.lines.at(-1)!.seq).toBe(body.last);
    }
    const grown = (await usedMemory(redis)) - memoryBefore;
    expect(grown).toBeLessThan(FLOOD_PANELS * RING_BYTES + REDIS_HEADROOM_MIB * 1024 * 1024);
    const metrics = await (await fetch(`${kernel.url}/metrics`)).text();
    expect(metrics).toMatch(/nexus_kernel_log_lines_dropped_total\{reason="queue"\} \d+/);
    process.stderr.write(
      `log flood: RSS +${(peak - before).toFixed(0)} MiB, /health worst ${attack.worstHealthMs.toFixed(0)} ms, Redis +${(grown / 1024 / 1024).toFixed(1)} MiB, dropped ${/nexus_kernel_log_lines_dropped_total\{reason="panel"\} (\d+)/.exec(metrics)?.[1]} (panel) ${/nexus_kernel_log_lines_dropped_total\{reason="queue"\} (\d+)/.exec(metrics)?.[1]} (queue)\n`,
    );
  }, 120_000);
});
