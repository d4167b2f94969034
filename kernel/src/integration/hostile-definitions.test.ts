// Hostile panel definitions and arguments against a kernel process: author-supplied schemas run
// off the event loop within a deadline, bounded in size; nothing a definition does grows the
// kernel's memory, its metrics or its cache directory. /health answers throughout.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rssMiB, underAttack } from '../testing/attack.js';
import { type ChildKernel, makeDataDir, postJson, startChildKernel } from '../testing/kernel-harness.js';

type Body = Record<string, unknown>;

function directoryBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    total += info.isDirectory() ? directoryBytes(path) : info.size;
  }
  return total;
}

const withSchema = (args: unknown) => ({
  title: 'Schema',
  tools: { go: { args, handler: 'return 1' } },
});

describe('hostile definitions and arguments', () => {
  let kernel: ChildKernel;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = await makeDataDir();
    kernel = await startChildKernel({ CACHE_DIR: cacheDir, MAX_PANELS: '5000' }, await makeDataDir());
  }, 60_000);
  afterAll(async () => {
    kernel.process.kill('SIGTERM');
    await kernel.exited;
  });

  const create = async (definition: unknown): Promise<string> => {
    const created = await postJson(`${kernel.url}/panels`, definition);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const trigger = (id: string, args: unknown) => postJson(`${kernel.url}/panels/${id}/trigger/go`, args);

  it('ends a catastrophic pattern with INVALID_ARGS at its deadline while /health answers', async () => {
    const id = await create(
      withSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } }),
    );
    const attack = await underAttack(kernel.url, () =>
      Promise.all(Array.from({ length: 4 }, () => trigger(id, { s: `${'a'.repeat(32)}!` }))),
    );
    for (const answer of attack.result) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({
        code: 'INVALID_ARGS',
        message: expect.stringContaining('longer than'),
      });
    }
    expect(attack.failedProbes).toBe(0);
    // The worker was replaced: the same tool still validates good arguments.
    expect((await trigger(id, { s: 'aaa' })).status).toBe(200);
  });

  it('bounds an exponential recursive oneOf and its error report', async () => {
    const id = await create(
      withSchema({
        $defs: {
          n: {
            oneOf: [
              { type: 'array', items: { $ref: '#/$defs/n' } },
              { type: 'array', items: { $ref: '#/$defs/n' } },
            ],
          },
        },
        $ref: '#/$defs/n',
      }),
    );
    const attack = await underAttack(kernel.url, () =>
      trigger(id, JSON.parse(`${'['.repeat(22)}${']'.repeat(22)}`)),
    );
    expect(attack.result.status).toBe(400);
    expect(JSON.stringify(attack.result.body).length).toBeLessThan(20_000);
    expect(attack.failedProbes).toBe(0);
  });

  it('ends uniqueItems over 20,000 objects at its deadline', async () => {
    const id = await create(withSchema({ type: 'array', uniqueItems: true }));
    const items = Array.from({ length: 20_000 }, (_, i) => ({ a: i % 7, b: [i % 3], c: `k${i}` }));
    const attack = await underAttack(kernel.url, () => trigger(id, items));
    expect([200, 400]).toContain(attack.result.status);
    expect(attack.failedProbes).toBe(0);
  });

  it('refuses schemas too large or too deep before compiling them', async () => {
    const big = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`p${i}`, { type: 'string' }])),
    };
    let deep: Body = { type: 'object' };
    for (let i = 0; i < 100; i++) deep = { type: 'object', properties: { x: deep } };
    for (const schema of [big, deep]) {
      const refused = await postJson(`${kernel.url}/panels`, withSchema(schema));
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [expect.objectContaining({ path: '/tools/go/args' })],
      });
    }
  });

  it('keeps memory, metrics and the cache directory bounded across hundreds of definitions', async () => {
    const rssBefore = rssMiB(kernel.process.pid!);
    const metricsBefore = (await (await fetch(`${kernel.url}/metrics`)).text()).length;
    for (let i = 0; i < 300; i++) {
      // A distinct schema and handler each time; half are refused, the rest created, run and deleted.
      const schema = { type: 'object', properties: { [`k${i}`]: { type: 'string', pattern: `^v${i}$` } } };
      const refused = await postJson(`${kernel.url}/panels`, withSchema({ ...schema, type: 'not-a-type' }));
      expect(refused.status).toBe(400);
      const definition = {
        title: `P${i}`,
        tools: { [`tool${i}`]: { args: schema, handler: `return ${i}` } },
      };
      const id = await create(definition);
      expect(
        (await postJson(`${kernel.url}/panels/${id}/trigger/tool${i}`, { [`k${i}`]: `v${i}` })).status,
      ).toBe(200);
      expect((await fetch(`${kernel.url}/panels/${id}`, { method: 'DELETE' })).status).toBe(200);
    }
    const metricsAfter = (await (await fetch(`${kernel.url}/metrics`)).text()).length;
    expect(metricsAfter).toBeLessThan(metricsBefore * 1.5);
    expect(rssMiB(kernel.process.pid!) - rssBefore).toBeLessThan(150);
    // Only the compiled module lives there: bytecode of refused and deleted panels leaves no files.
    expect(directoryBytes(cacheDir)).toBeLessThan(8 * 1024 * 1024);
  });

  it('refuses arguments nested deeper than 64 levels with 400, not a crash', async () => {
    const id = await create({ title: 'No schema', tools: { go: { handler: 'return 1' } } });
    const deep = JSON.parse(`${'['.repeat(200)}${']'.repeat(200)}`) as unknown;
    const refused = await trigger(id, deep);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'INVALID_ARGS',
      message: expect.stringContaining('64'),
    });
    const deepState = await postJson(`${kernel.url}/panels`, { title: 'Deep', state: { x: deep } });
    expect(deepState.status).toBe(400);
  });
});
