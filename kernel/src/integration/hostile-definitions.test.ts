// Hostile panel definitions and arguments against a kernel process: author-supplied schemas are
// bounded by construction — a schema whose validation could cost more than linear work is refused
// when the panel is created, patterns run on a linear-time engine, uniqueItems is linear — and run
// off the event loop on schema workers shared fairly between panels; nothing a definition does
// grows the kernel's memory, its metrics or its cache directory. /health answers throughout.

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

  it('runs a catastrophic pattern in linear time: invalid arguments get INVALID_ARGS at once, /health answers', async () => {
    const id = await create(
      withSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } }),
    );
    const attack = await underAttack(kernel.url, () =>
      Promise.all([
        ...Array.from({ length: 4 }, () => trigger(id, { s: `${'a'.repeat(32)}!` })),
        trigger(id, { s: `${'a'.repeat(200_000)}!` }),
      ]),
    );
    for (const answer of attack.result) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({
        code: 'INVALID_ARGS',
        details: [{ path: '/s', message: expect.stringContaining('must match pattern') as string }],
      });
    }
    expect(attack.failedProbes).toBe(0);
    expect((await trigger(id, { s: 'aaa' })).status).toBe(200);
  });

  it('refuses at creation a pattern the linear-time engine cannot run, naming it and its pointer', async () => {
    const refused = await postJson(
      `${kernel.url}/panels`,
      withSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(?!admin)(a|aa)+$' } } }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [
        {
          path: '/tools/go/args/properties/s/pattern',
          message: expect.stringContaining('^(?!admin)(a|aa)+$') as string,
        },
      ],
    });
  });

  it("keeps another panel's trivial trigger served while 150 triggers of a pattern-heavy tool queue", async () => {
    const heavy = await create(
      withSchema({
        type: 'object',
        patternProperties: { '^(a|aa)+$': { type: 'string', pattern: '^([a-z]+)*[0-9]$' } },
      }),
    );
    const quiet = await create({
      title: 'Quiet',
      tools: { go: { args: { type: 'object' }, handler: 'return 1' } },
    });
    const value = `${'a'.repeat(20_000)}!`;
    const flood = Array.from({ length: 150 }, () => trigger(heavy, { [`${'a'.repeat(5000)}`]: value }));
    const answer = await trigger(quiet, {});
    expect(answer.status).toBe(200);
    // Every flooded request gets its own answer (invalid: 400) or a retryable refusal, never a wrong one.
    for (const flooded of await Promise.all(flood)) {
      expect([400, 429, 503]).toContain(flooded.status);
      const code = (flooded.body.error as { code: string }).code;
      expect(
        flooded.status === 400 ? code === 'INVALID_ARGS' : ['PANEL_BUSY', 'OVERLOADED'].includes(code),
      ).toBe(true);
    }
  });

  it('refuses at creation a recursive oneOf that would evaluate 2^depth schemas', async () => {
    const refused = await postJson(
      `${kernel.url}/panels`,
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
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ path: '/tools/go/args/$defs/n', message: expect.stringContaining('`oneOf`') as string }],
    });
    // The same shape with one branch is an honest tree: accepted, and 22 levels validate.
    const id = await create(
      withSchema({ $defs: { n: { type: 'array', items: { $ref: '#/$defs/n' } } }, $ref: '#/$defs/n' }),
    );
    expect((await trigger(id, JSON.parse(`${'['.repeat(22)}${']'.repeat(22)}`))).status).toBe(200);
  });

  it('checks uniqueItems over 20,000 objects in linear time, duplicates included', async () => {
    const id = await create(withSchema({ type: 'array', uniqueItems: true }));
    const items = Array.from({ length: 20_000 }, (_, i) => ({ a: i % 7, b: [i % 3], c: `k${i}` }));
    const attack = await underAttack(kernel.url, async () => [
      await trigger(id, items),
      await trigger(id, [...items, { c: 'k5', b: [2], a: 5 }]),
    ]);
    const [distinct, duplicated] = attack.result;
    expect(distinct!.status).toBe(200);
    expect(duplicated!.status).toBe(400);
    expect(duplicated!.body.error).toMatchObject({
      code: 'INVALID_ARGS',
      details: [{ path: '/', message: expect.stringContaining('duplicate items') as string }],
    });
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
      // A distinct schema and handler each time; half are refused (in turn: not a JSON Schema, a
      // pattern RE2 cannot run, combinators that multiply), the rest created, run and deleted.
      const schema = { type: 'object', properties: { [`k${i}`]: { type: 'string', pattern: `^v${i}$` } } };
      const costly = [
        { ...schema, type: 'not-a-type' },
        { type: 'object', properties: { [`k${i}`]: { type: 'string', pattern: `^(?=v)v${i}$` } } },
        {
          anyOf: [{ properties: { [`k${i}`]: { $ref: '#' } } }, { properties: { [`k${i}`]: { $ref: '#' } } }],
        },
      ][i % 3];
      const refused = await postJson(`${kernel.url}/panels`, withSchema(costly));
      expect(refused.status).toBe(400);
      expect((refused.body.error as { code: string }).code).toBe('VALIDATION_FAILED');
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
