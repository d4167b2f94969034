// Argument validation per trigger (make bench-kernel, BENCH_ONLY=validation): the schema workers
// as the kernel runs them (re2js patterns, linear uniqueItems, a pool of SCHEMA_WORKERS threads,
// queues per panel) against the design they replaced, reproduced here: Ajv with V8's RegExp on one
// worker thread, first in first out for every panel. Each figure is the time from handing the
// arguments to the validator to its answer, so it includes the message passing both ways.

import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import type * as ValidatorModule from '../src/schemas/validator.js';

/** Today's validator's core as it was: one Ajv (V8 RegExp, Ajv's uniqueItems) on one thread. */
const BASELINE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { Ajv } = createRequire(workerData.packageJson)('ajv');
const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false, validateSchema: true });
const compiled = new Map();
parentPort.on('message', ({ id, hash, schema, args }) => {
  let validate = compiled.get(hash);
  if (validate === undefined) compiled.set(hash, (validate = ajv.compile(JSON.parse(schema))));
  const valid = validate(JSON.parse(args));
  parentPort.postMessage({ id, valid });
});
`;

class Baseline {
  private readonly worker: Worker;
  private readonly pending = new Map<number, () => void>();
  private nextId = 1;

  constructor() {
    const packageJson = fileURLToPath(new URL('../../../package.json', import.meta.url));
    this.worker = new Worker(BASELINE_WORKER, { eval: true, workerData: { packageJson } });
    this.worker.on('message', ({ id }: { id: number }) => {
      this.pending.get(id)?.();
      this.pending.delete(id);
    });
  }

  validate(schema: { text: string; hash: string }, args: string): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, hash: schema.hash, schema: schema.text, args });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function timed(samples: number, run: () => Promise<unknown>): Promise<{ median: number; p99: number }> {
  for (let i = 0; i < Math.min(50, samples); i++) await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), p99: percentile(times, 99) };
}

const ms = (value: number) => (value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(1)} ms`);

export async function validationBenchmark(): Promise<string[]> {
  process.stderr.write('  .. validation: the schema workers against one Ajv worker with V8 RegExp\n');
  const { SchemaValidator, prepareSchema } = (await import(
    new URL('../../../dist/schemas/validator.js', import.meta.url).href
  )) as typeof ValidatorModule;
  const current = new SchemaValidator(
    { timeoutMs: 200, maxQueued: 1024, maxQueuedPerPanel: 64, waitMs: 10_000, workers: 2, heapMb: 64 },
    pino({ level: 'silent' }),
  );
  await current.start();
  const baseline = new Baseline();
  const email = '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$';
  const cases: { name: string; schema: unknown; args: unknown; samples: number }[] = [
    {
      name: 'trivial (`{by: integer ≥ 1}`)',
      schema: { type: 'object', properties: { by: { type: 'integer', minimum: 1 } } },
      args: { by: 1 },
      samples: 3000,
    },
    {
      name: 'pattern-heavy (4 patterns, 20 tags with uniqueItems, ~1.3 KB)',
      schema: {
        type: 'object',
        properties: {
          note: { type: 'string', pattern: '^[a-z]{0,16}$' },
          email: { type: 'string', pattern: email },
          day: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          tags: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' } },
          text: { type: 'string', pattern: '^[^<>]*$' },
        },
      },
      args: {
        note: 'abcdef',
        email: 'someone@example.org',
        day: '2026-12-06',
        tags: Array.from({ length: 20 }, (_, i) => `tag-${i}`),
        text: 'x'.repeat(1000),
      },
      samples: 3000,
    },
    {
      name: 'catastrophic `^(a+)+$` on 20 a + `!`',
      schema: { type: 'string', pattern: '^(a+)+$' },
      args: `${'a'.repeat(20)}!`,
      samples: 60,
    },
  ];
  const lines = [
    '### Argument validation per trigger',
    '',
    'Time from handing the arguments to the validator to its answer (sequential requests; message passing',
    'included). "Before": Ajv with V8\'s RegExp on one worker, FIFO for every panel (as the kernel was);',
    '"now": re2js patterns, linear uniqueItems, two workers, queues per panel.',
    '',
    '| schema | before median | before p99 | now median | now p99 |',
    '|---|---|---|---|---|',
  ];
  try {
    for (const { name, schema, args, samples } of cases) {
      const prepared = prepareSchema(schema);
      const text = JSON.stringify(args);
      const before = await timed(samples, () => baseline.validate(prepared, text));
      const now = await timed(samples, () => current.validate('bench', prepared, text));
      lines.push(
        `| ${name} | ${ms(before.median)} | ${ms(before.p99)} | ${ms(now.median)} | ${ms(now.p99)} |`,
      );
    }
    // One panel floods the validator with 150 catastrophic checks; another panel's trivial check
    // waits behind all of them in one FIFO, behind at most one per worker in the queues per panel.
    const heavy = prepareSchema({ type: 'string', pattern: '^(a+)+$' });
    const trivial = prepareSchema(cases[0]!.schema);
    const floodArgs = JSON.stringify(`${'a'.repeat(18)}!`);
    const quietWait = async (
      validate: (panel: string, schema: typeof heavy, args: string) => Promise<unknown>,
    ) => {
      const flood = Array.from({ length: 150 }, () =>
        validate('heavy', heavy, floodArgs).catch(() => undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const started = performance.now();
      await validate('quiet', trivial, '{"by":1}');
      const took = performance.now() - started;
      await Promise.all(flood);
      return took;
    };
    const before = await quietWait((_panel, schema, args) => baseline.validate(schema, args));
    const now = await quietWait((panel, schema, args) => current.validate(panel, schema, args));
    lines.push(
      '',
      `Another panel's trivial check while one panel has 150 checks of \`^(a+)+$\` on 18 a + \`!\` queued:`,
      `before ${ms(before)}, now ${ms(now)} (now the flood beyond SCHEMA_PANEL_QUEUE_MAX = 64 is refused with 429 PANEL_BUSY).`,
      '',
    );
  } finally {
    await current.close();
    await baseline.close();
  }
  return lines;
}
