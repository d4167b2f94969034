// The schema worker: compiles tools' argument schemas with Ajv and validates arguments against
// them, on a thread of its own. Author-supplied schemas run code here (regular expressions,
// exponential `oneOf`, `uniqueItems` over large arrays); the kernel's event loop never does.
// The kernel bounds each request's time and this thread's heap, and replaces the thread when
// either is exceeded (validator.ts).

import { parentPort } from 'node:worker_threads';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  MAX_PROBLEM_CHARS,
  MAX_PROBLEMS,
  type ValidationProblem,
  type WorkerReply,
  type WorkerRequest,
} from './protocol.js';

/** Compiled schemas kept, least recently used out first (Ajv forgets them too). */
const MAX_COMPILED = 256;

const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false, validateSchema: true });
const compiled = new Map<string, { schema: object; validate: ValidateFunction }>();

function compile(hash: string, text: string): ValidateFunction {
  const hit = compiled.get(hash);
  if (hit !== undefined) {
    compiled.delete(hash);
    compiled.set(hash, hit);
    return hit.validate;
  }
  const schema = JSON.parse(text) as object;
  const validate = ajv.compile(schema);
  compiled.set(hash, { schema, validate });
  if (compiled.size > MAX_COMPILED) {
    const [oldest, entry] = compiled.entries().next().value as [string, { schema: object }];
    compiled.delete(oldest);
    ajv.removeSchema(entry.schema);
  }
  return validate;
}

function cut(text: string): string {
  return text.length <= MAX_PROBLEM_CHARS ? text : `${text.slice(0, MAX_PROBLEM_CHARS)}…`;
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
    return { path: cut(path), message: cut(error.message ?? error.keyword) };
  });
}

function handle(request: WorkerRequest): WorkerReply {
  try {
    const validate = compile(request.hash, request.schema);
    if (request.op === 'compile') return { id: request.id, ok: true, problems: [] };
    const valid = validate(JSON.parse(request.args));
    return { id: request.id, ok: true, problems: valid ? [] : describe(validate.errors) };
  } catch (error) {
    return { id: request.id, ok: false, message: cut((error as Error).message) };
  }
}

parentPort?.on('message', (request: WorkerRequest) => parentPort!.postMessage(handle(request)));
