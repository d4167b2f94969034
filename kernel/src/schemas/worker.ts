// A schema worker: compiles tools' argument schemas (after the creation-time analysis, analysis.ts)
// and validates arguments against them, on a thread of its own, so the kernel's event loop never
// runs an author's schema. The kernel gives it work only once it said it is ready, and bounds the
// CPU each request uses on this thread (validator.ts); this side marks when compiling ends, so the
// validation budget counts the validation alone.

import { parentPort, workerData } from 'node:worker_threads';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv } from './ajv.js';
import { analyseSchema } from './analysis.js';
import { MAX_COMPILED, MAX_VALIDATION_WORK } from './limits.js';
import {
  MAX_PROBLEM_CHARS,
  MAX_PROBLEMS,
  type ValidationProblem,
  type WorkerMessage,
  type WorkerReply,
  type WorkerRequest,
} from './protocol.js';
import { currentThreadId, ownCpuNs } from './thread-cpu.js';

interface Compiled {
  readonly schema: object;
  /** Undefined when the schema is refused (its problems). */
  readonly validate?: ValidateFunction;
  readonly problems: ValidationProblem[];
  readonly evaluationsPerValue: number;
}

/** See the 'idle' message below. */
const IDLE_READ_EVERY_MS = 5;
let busySinceReadMs = 0;

const ajv = createAjv();
const compiled = new Map<string, Compiled>();
const testOps = (workerData as { testOps?: boolean } | undefined)?.testOps === true;

function cut(text: string): string {
  return text.length <= MAX_PROBLEM_CHARS ? text : `${text.slice(0, MAX_PROBLEM_CHARS)}…`;
}

/** The compiled schema (least recently used out first); compiles on a miss and says so. */
function compile(hash: string, text: string): { entry: Compiled; fresh: boolean } {
  const hit = compiled.get(hash);
  if (hit !== undefined) {
    compiled.delete(hash);
    compiled.set(hash, hit);
    return { entry: hit, fresh: false };
  }
  const schema = JSON.parse(text) as object;
  const analysis = analyseSchema(schema);
  let entry: Compiled;
  if (analysis.problems.length > 0) {
    entry = { schema, problems: analysis.problems.map(clip), evaluationsPerValue: 1 };
  } else {
    try {
      entry = {
        schema,
        validate: ajv.compile(schema),
        problems: [],
        evaluationsPerValue: analysis.evaluationsPerValue,
      };
    } catch (error) {
      entry = {
        schema,
        problems: [clip({ path: '/', message: `invalid JSON Schema: ${(error as Error).message}` })],
        evaluationsPerValue: 1,
      };
    }
  }
  compiled.set(hash, entry);
  if (compiled.size > MAX_COMPILED) {
    const [oldest, old] = compiled.entries().next().value as [string, Compiled];
    compiled.delete(oldest);
    if (old.validate !== undefined) ajv.removeSchema(old.schema);
  }
  return { entry, fresh: true };
}

function clip(problem: ValidationProblem): ValidationProblem {
  return { path: cut(problem.path), message: cut(problem.message) };
}

/** Ajv's errors as problems with JSON-pointer paths. */
export function describe(errors: readonly ErrorObject[] | null | undefined): ValidationProblem[] {
  return (errors ?? []).slice(0, MAX_PROBLEMS).map((error) => {
    const params = error.params as { missingProperty?: string; additionalProperty?: string };
    const child =
      error.keyword === 'required'
        ? params.missingProperty
        : error.keyword === 'additionalProperties'
          ? params.additionalProperty
          : undefined;
    const path = child === undefined ? error.instancePath || '/' : `${error.instancePath}/${child}`;
    return clip({ path, message: error.message ?? error.keyword });
  });
}

function post(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

function runTestOp(stallMs: number, spinMs: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
  const until = performance.now() + spinMs;
  while (performance.now() < until);
}

function handle(request: WorkerRequest): WorkerReply & { cached: boolean } {
  if (request.op === 'test') {
    if (!testOps) return { ok: false, message: 'test operations are off', cached: false };
    runTestOp(request.stallMs, request.spinMs);
    return { ok: true, problems: [], cached: false };
  }
  const { entry, fresh } = compile(request.hash, request.schema);
  if (request.op === 'compile') return { ok: true, problems: entry.problems, cached: true };
  if (entry.validate === undefined) {
    const first = entry.problems[0];
    return {
      ok: false,
      message: `the schema is refused: ${first?.path ?? '/'}: ${first?.message ?? ''}`,
      cached: true,
    };
  }
  if (fresh) post({ kind: 'mark', id: request.id, cpuNs: ownCpuNs() ?? 0 });
  const work = entry.evaluationsPerValue * request.args.length;
  if (work > MAX_VALIDATION_WORK) {
    const most = Math.floor(MAX_VALIDATION_WORK / entry.evaluationsPerValue);
    return {
      ok: true,
      cached: true,
      problems: [
        {
          path: '/',
          message: `the arguments are ${request.args.length} bytes of JSON; this tool's schema evaluates up to ${entry.evaluationsPerValue} schemas per value, so it checks at most ${most} bytes`,
        },
      ],
    };
  }
  const valid = entry.validate(JSON.parse(request.args));
  return { ok: true, problems: valid ? [] : describe(entry.validate.errors), cached: true };
}

parentPort?.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply & { cached: boolean };
  const started = performance.now();
  try {
    reply = handle(request);
  } catch (error) {
    reply = { ok: false, message: cut((error as Error).message), cached: false };
  }
  post({ kind: 'reply', id: request.id, ...reply });
  // Reading the clock costs ~25 µs, so it is read once requests have taken IDLE_READ_EVERY_MS of
  // wall time since the last reading: a budget then starts at most that much CPU early, which
  // only errs towards the request's cost.
  busySinceReadMs += performance.now() - started;
  if (busySinceReadMs >= IDLE_READ_EVERY_MS) {
    busySinceReadMs = 0;
    post({ kind: 'idle', cpuNs: ownCpuNs() });
  }
});
post({ kind: 'ready', tid: currentThreadId() });
post({ kind: 'idle', cpuNs: ownCpuNs() });
