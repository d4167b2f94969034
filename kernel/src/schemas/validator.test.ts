// The schema workers for real (worker threads from kernel/dist: build the kernel first).

import pino from 'pino';
import { KernelError } from '../errors.js';
import { type SchemaValidatorOptions, SchemaValidator, prepareSchema } from './validator.js';

const logger = pino({ level: 'silent' });

const defaults: SchemaValidatorOptions = {
  timeoutMs: 200,
  maxQueued: 100,
  maxQueuedPerPanel: 50,
  waitMs: 60_000,
  workers: 1,
  heapMb: 64,
  testOps: true,
};

async function withValidator(
  options: Partial<SchemaValidatorOptions>,
  body: (validator: SchemaValidator) => Promise<void>,
): Promise<void> {
  const validator = new SchemaValidator({ ...defaults, ...options }, logger);
  try {
    await validator.start();
    await body(validator);
  } finally {
    await validator.close();
  }
}

const code = (error: unknown) => (error instanceof KernelError ? error.code : String(error));

describe('SchemaValidator', () => {
  it('validates arguments and reports problems with their paths', async () => {
    await withValidator({}, async (validator) => {
      const schema = prepareSchema({
        type: 'object',
        properties: {
          by: { type: 'integer', minimum: 1 },
          note: { type: 'string', pattern: '^[a-z]{0,16}$' },
        },
      });
      expect(await validator.compile(schema)).toEqual([]);
      expect(await validator.validate('p', schema, '{"by":2,"note":"abc"}')).toEqual([]);
      expect(await validator.validate('p', schema, '{"by":0,"note":"ABC"}')).toEqual([
        { path: '/by', message: 'must be >= 1' },
        { path: '/note', message: expect.stringContaining('must match pattern') as string },
      ]);
    });
  });

  it('runs a catastrophic pattern in linear time and refuses costly schemas at compile', async () => {
    await withValidator({}, async (validator) => {
      const schema = prepareSchema({ type: 'string', pattern: '^(a+)+$' });
      expect(await validator.validate('p', schema, JSON.stringify(`${'a'.repeat(50_000)}!`))).toEqual([
        { path: '/', message: expect.stringContaining('must match pattern') as string },
      ]);
      const problems = await validator.compile(
        prepareSchema({ anyOf: [{ items: { $ref: '#' } }, { items: { $ref: '#' } }] }),
      );
      expect(problems).toEqual([{ path: '/', message: expect.stringContaining('`anyOf`') as string }]);
      expect(await validator.compile(prepareSchema({ type: 'nope' }))).toEqual([
        { path: '/', message: expect.stringContaining('invalid JSON Schema') as string },
      ]);
    });
  });

  it('counts only the CPU the request uses: time blocked off the CPU is not spent', async () => {
    await withValidator({ timeoutMs: 50 }, async (validator) => {
      // 500 ms of wall-clock time without CPU (the thread blocked): ten times the budget, and fine.
      expect(await validator.runTestOp('p', { stallMs: 500, spinMs: 0 })).toEqual({ ok: true, problems: [] });
      // 2 s spinning on the CPU: ended at its CPU budget, and the worker is replaced.
      await expect(validator.runTestOp('p', { stallMs: 0, spinMs: 2000 })).rejects.toThrow(
        'used more than 50 ms of CPU',
      );
      const schema = prepareSchema({ type: 'integer' });
      expect(await validator.validate('p', schema, '1')).toEqual([]);
    });
  });

  it('serves panels round-robin: a quiet panel waits for at most one request of a busy one', async () => {
    await withValidator({}, async (validator) => {
      const finished: string[] = [];
      const busy = Array.from({ length: 6 }, (_, i) =>
        validator.runTestOp('busy', { stallMs: 100, spinMs: 0 }).then(() => finished.push(`busy${i}`)),
      );
      const quiet = validator
        .validate('quiet', prepareSchema({ type: 'integer' }), '1')
        .then(() => finished.push('quiet'));
      await Promise.all([...busy, quiet]);
      // busy0 was running, busy1 was first in the rotation; then the quiet panel's turn.
      expect(finished.indexOf('quiet')).toBeLessThanOrEqual(2);
    });
  });

  it('answers 429 PANEL_BUSY past the per-panel queue, 503 OVERLOADED past the total', async () => {
    await withValidator({ maxQueuedPerPanel: 2, maxQueued: 3 }, async (validator) => {
      const stall = (panel: string) => validator.runTestOp(panel, { stallMs: 300, spinMs: 0 });
      const accepted = [stall('a'), stall('a'), stall('a')]; // one running, two queued
      const panelBusy = await stall('a').catch(code);
      expect(panelBusy).toBe('PANEL_BUSY');
      accepted.push(stall('b'));
      expect(await stall('c').catch(code)).toBe('OVERLOADED');
      await Promise.all(accepted);
    });
  });

  it('answers 503 OVERLOADED, never 400, when a request waits past SCHEMA_WAIT_MS', async () => {
    await withValidator({ waitMs: 100 }, async (validator) => {
      const running = validator.runTestOp('a', { stallMs: 1500, spinMs: 0 }).catch((error: unknown) => error);
      const queued = validator
        .validate('b', prepareSchema({ type: 'integer' }), '1')
        .catch((error: unknown) => error);
      for (const outcome of await Promise.all([running, queued])) {
        expect(outcome).toBeInstanceOf(KernelError);
        expect((outcome as KernelError).code).toBe('OVERLOADED');
        expect((outcome as KernelError).message).toContain('SCHEMA_WAIT_MS');
      }
    });
  });
});
