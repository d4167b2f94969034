// Runs tools' argument schemas on a worker thread (worker.ts), one request at a time, each with a
// deadline, the thread's heap capped: an author's schema can cost that thread time and memory,
// never the event loop. A request past its deadline, or a thread out of memory, ends with a clear
// error and the thread is replaced; requests waiting behind it go on on the new one.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import type { ValidationProblem, WorkerReply, WorkerRequest } from './protocol.js';

export interface SchemaValidatorOptions {
  /** How long one validation may take. Compiling a schema may take ten times that. */
  readonly timeoutMs: number;
  /** Requests that may wait for the worker (beyond them: 503 OVERLOADED). */
  readonly maxQueued: number;
  /** The worker's heap (old generation), MiB. */
  readonly heapMb: number;
}

/** A schema as the validator takes it: its JSON text and the hash the worker caches it by. */
export interface PreparedSchema {
  readonly text: string;
  readonly hash: string;
}

export function prepareSchema(schema: unknown): PreparedSchema {
  const text = JSON.stringify(schema);
  return { text, hash: createHash('sha256').update(text).digest('hex') };
}

/** A request without its id (the validator numbers them). */
type RequestBody = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly request: RequestBody;
  readonly timeoutMs: number;
  readonly resolve: (reply: WorkerReply) => void;
  readonly reject: (error: Error) => void;
}

/** The worker's compiled file: beside this one, or under dist/ when running from the sources. */
function workerFile(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url);
  const built = here.replace(/\/src\/schemas\/validator\.ts$/, '/dist/schemas/worker.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: build the kernel first (make build-kernel)`);
  return new URL(`file://${built}`);
}

class WorkerFailure extends Error {}

export class SchemaValidator {
  private worker: Worker | undefined;
  private current: (Pending & { id: number; timer: NodeJS.Timeout }) | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly options: SchemaValidatorOptions,
    private readonly logger: Logger,
  ) {}

  /** Undefined when the schema compiles, else what is wrong with it. */
  async compile(schema: PreparedSchema): Promise<string | undefined> {
    try {
      const reply = await this.submit(
        { op: 'compile', hash: schema.hash, schema: schema.text },
        this.options.timeoutMs * 10,
      );
      return reply.ok ? undefined : `invalid JSON Schema: ${reply.message}`;
    } catch (error) {
      if (error instanceof WorkerFailure) return `the schema cannot be compiled: ${error.message}`;
      throw error;
    }
  }

  /** The problems of `argsJson` against the schema (none: valid). */
  async validate(schema: PreparedSchema, argsJson: string): Promise<ValidationProblem[]> {
    let reply: WorkerReply;
    try {
      reply = await this.submit(
        { op: 'validate', hash: schema.hash, schema: schema.text, args: argsJson },
        this.options.timeoutMs,
      );
    } catch (error) {
      if (error instanceof WorkerFailure) {
        throw new KernelError(
          'INVALID_ARGS',
          `the arguments could not be checked against the tool's schema: ${error.message}`,
        );
      }
      throw error;
    }
    if (!reply.ok)
      throw new KernelError(
        'INVALID_ARGS',
        `the tool's schema cannot check these arguments: ${reply.message}`,
      );
    return reply.problems;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0))
      pending.reject(new KernelError('SHUTTING_DOWN', 'the kernel is shutting down'));
    this.failCurrent(new KernelError('SHUTTING_DOWN', 'the kernel is shutting down'));
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private submit(request: RequestBody, timeoutMs: number): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(new KernelError('SHUTTING_DOWN', 'the kernel is shutting down'));
    if (this.queue.length >= this.options.maxQueued) {
      return Promise.reject(
        new KernelError(
          'OVERLOADED',
          `${this.queue.length} schema validations are waiting already; retry shortly`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ request, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current !== undefined || this.closed) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.logger.warn(
        { timeoutMs: next.timeoutMs },
        'a schema ran past its deadline; replacing the schema worker',
      );
      this.replace(new WorkerFailure(`it took longer than ${next.timeoutMs} ms (SCHEMA_TIMEOUT_MS)`));
    }, next.timeoutMs);
    this.current = { ...next, id, timer };
    worker.postMessage({ ...next.request, id });
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(workerFile(), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb, maxYoungGenerationSizeMb: 8 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (this.worker !== worker || this.current?.id !== reply.id) return;
      const { resolve, timer } = this.current;
      clearTimeout(timer);
      this.current = undefined;
      resolve(reply);
      this.pump();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.logger.warn({ err: error }, 'the schema worker failed; replacing it');
      this.replace(
        new WorkerFailure(outOfMemory ? `it needed more than ${this.options.heapMb} MiB` : error.message),
      );
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.replace(new WorkerFailure('the schema worker stopped'));
    });
    this.worker = worker;
    return worker;
  }

  /** Fails the request in progress, drops the worker (a new one starts for the next request). */
  private replace(error: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    this.failCurrent(error);
    void worker?.terminate();
    this.pump();
  }

  private failCurrent(error: Error): void {
    const current = this.current;
    if (current === undefined) return;
    clearTimeout(current.timer);
    this.current = undefined;
    current.reject(error);
  }
}
