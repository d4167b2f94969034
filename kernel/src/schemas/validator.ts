// Runs tools' argument schemas on a pool of worker threads (worker.ts), started with the kernel.
// What bounds a request is its own cost, never the machine's load:
//   - its CPU time on the worker's thread (SCHEMA_TIMEOUT_MS; compiling: COMPILE_BUDGET_FACTOR
//     times that), read from the thread's CPU clock (thread-cpu.ts) when a timer fires; a request
//     under budget gets the remainder. Start-up is never counted (a worker gets work once ready),
//     nor is compiling counted against validating (the worker marks when compiling ends). Past its
//     budget the request fails with 400 and the worker is replaced — which the creation-time
//     analysis (analysis.ts) makes unreachable for accepted schemas;
//   - the machine's load gets a retryable answer: a request that waited (queued or descheduled)
//     longer than SCHEMA_WAIT_MS, or that finds the queues full, gets 503 OVERLOADED;
//   - panels share the pool fairly: one FIFO queue per panel, served round-robin, at most
//     SCHEMA_PANEL_QUEUE_MAX queued per panel (beyond: 429 PANEL_BUSY).

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import { FairQueue } from './fair-queue.js';
import { COMPILE_BUDGET_FACTOR, MAX_COMPILED } from './limits.js';
import type { TestOp, ValidationProblem, WorkerMessage, WorkerReply, WorkerRequest } from './protocol.js';
import { threadCpuNs } from './thread-cpu.js';

export interface SchemaValidatorOptions {
  /** CPU time one validation may use on its worker (compiling a schema: ten times that). */
  readonly timeoutMs: number;
  /** Validations that may wait, all panels together (beyond them: 503 OVERLOADED). */
  readonly maxQueued: number;
  /** Validations that may wait for one panel (beyond them: 429 PANEL_BUSY). */
  readonly maxQueuedPerPanel: number;
  /** Wall-clock time a request may wait for an answer before 503 OVERLOADED (the machine is busy). */
  readonly waitMs: number;
  /** Worker threads. */
  readonly workers: number;
  /** Each worker's heap (old generation), MiB. */
  readonly heapMb: number;
  /** Accept test operations (tests of the CPU accounting and fairness only). */
  readonly testOps?: boolean;
}

/** A schema as the validator takes it: its JSON text and the hash the workers cache it by. */
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

/** Queue key of compilations at panel creation (they share the pool fairly with each panel). */
const CREATION = '\u0000creation';

interface Job {
  readonly key: string;
  readonly request: RequestBody;
  readonly resolve: (reply: WorkerReply) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
  waitTimer?: NodeJS.Timeout;
}

interface Running {
  readonly job: Job;
  readonly id: number;
  phase: 'compile' | 'validate';
  /** The thread's CPU clock (ns; the wall clock in ms × 1e6 without /proc) when the phase began. */
  phaseStart: number;
  /** The worker said compiling ended (phaseStart is then its own reading). */
  marked: boolean;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  tid: number | undefined;
  ready: boolean;
  running?: Running;
  /** The thread's CPU clock (ns) when it last went idle, as it reported (see 'idle'). */
  idleCpu: number | undefined;
  /** Hashes this worker holds compiled, in its own LRU order (mirrored from its replies). */
  readonly compiled: Map<string, true>;
}

class BudgetExceeded extends Error {}

/** The worker's compiled file: beside this one, or under dist/ when running from the sources. */
function workerFile(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url);
  const built = here.replace(/\/src\/schemas\/validator\.ts$/, '/dist/schemas/worker.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: build the kernel first (make build-kernel)`);
  return new URL(`file://${built}`);
}

function shuttingDown(): KernelError {
  return new KernelError('SHUTTING_DOWN', 'the kernel is shutting down');
}

export class SchemaValidator {
  private readonly slots: Slot[] = [];
  private readonly queue = new FairQueue<Job>();
  private nextId = 1;
  private closed = false;
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly options: SchemaValidatorOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts the workers and waits until each is ready (the kernel calls it at start). */
  async start(): Promise<void> {
    while (this.slots.length < this.options.workers) {
      const slot: Slot = {
        worker: undefined as unknown as Worker,
        tid: undefined,
        ready: false,
        idleCpu: undefined,
        compiled: new Map(),
      };
      this.startWorker(slot);
      this.slots.push(slot);
    }
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.closed || this.slots.every((slot) => slot.ready)) resolve();
        else this.readyWaiters.push(check);
      };
      check();
    });
  }

  /** The problems of a schema, each with its pointer inside the schema (none: it compiles). */
  async compile(schema: PreparedSchema): Promise<ValidationProblem[]> {
    try {
      const reply = await this.submit(CREATION, { op: 'compile', hash: schema.hash, schema: schema.text });
      return reply.ok
        ? reply.problems
        : [{ path: '/', message: `the schema cannot be compiled: ${reply.message}` }];
    } catch (error) {
      if (error instanceof BudgetExceeded)
        return [{ path: '/', message: `the schema cannot be compiled: ${error.message}` }];
      throw error;
    }
  }

  /** The problems of `argsJson` against the schema (none: valid). `panelId` keys fairness. */
  async validate(panelId: string, schema: PreparedSchema, argsJson: string): Promise<ValidationProblem[]> {
    let reply: WorkerReply;
    try {
      reply = await this.submit(panelId, {
        op: 'validate',
        hash: schema.hash,
        schema: schema.text,
        args: argsJson,
      });
    } catch (error) {
      if (error instanceof BudgetExceeded) {
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

  /** A test operation (only with `testOps`): blocks a worker `stallMs` without CPU, then spins `spinMs`. */
  async runTestOp(panelId: string, op: Omit<TestOp, 'op'>): Promise<WorkerReply> {
    return this.submit(panelId, { op: 'test', ...op });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.drain()) this.settle(job, shuttingDown());
    for (const slot of this.slots) {
      if (slot.running !== undefined) {
        clearTimeout(slot.running.timer);
        this.settle(slot.running.job, shuttingDown());
        slot.running = undefined;
      }
    }
    for (const waiter of this.readyWaiters.splice(0)) waiter();
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }

  private submit(key: string, request: RequestBody): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(shuttingDown());
    if (this.queue.size >= this.options.maxQueued) {
      return Promise.reject(
        new KernelError(
          'OVERLOADED',
          `${this.queue.size} schema validations are waiting already (SCHEMA_QUEUE_MAX); retry shortly`,
        ),
      );
    }
    if (this.queue.sizeOf(key) >= this.options.maxQueuedPerPanel) {
      const waiting = `${this.queue.sizeOf(key)} schema validations`;
      return Promise.reject(
        key === CREATION
          ? new KernelError('OVERLOADED', `${waiting} of new panels are waiting already; retry shortly`)
          : new KernelError(
              'PANEL_BUSY',
              `${waiting} of this panel are waiting already (SCHEMA_PANEL_QUEUE_MAX); retry after the Retry-After seconds`,
            ),
      );
    }
    return new Promise((resolve, reject) => {
      const job: Job = { key, request, resolve, reject, settled: false };
      job.waitTimer = setTimeout(() => {
        const queued = this.queue.remove(key, job);
        this.settle(
          job,
          new KernelError(
            'OVERLOADED',
            `the schema check waited ${this.options.waitMs} ms (SCHEMA_WAIT_MS) ${queued ? 'for a worker' : 'for CPU time'}: the kernel is busy; retry shortly`,
          ),
        );
      }, this.options.waitMs);
      this.queue.push(key, job);
      this.pump();
    });
  }

  private settle(job: Job, outcome: WorkerReply | Error): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.waitTimer);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (!slot.ready || slot.running !== undefined) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      this.dispatch(slot, job);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    const id = this.nextId++;
    const needsCompile = job.request.op !== 'test' && !slot.compiled.has(job.request.hash);
    // The budget starts at the thread's last idle reading (reading its clock here would cost every
    // request a /proc read on the event loop); a later idle message moves it up (see 'idle').
    const phaseStart = slot.tid === undefined ? performance.now() * 1e6 : (slot.idleCpu ?? 0);
    const running: Running = {
      job,
      id,
      phase: needsCompile ? 'compile' : 'validate',
      phaseStart,
      marked: false,
    };
    slot.running = running;
    this.arm(slot, running);
    slot.worker.postMessage({ ...job.request, id });
  }

  private budgetMs(running: Running): number {
    return running.phase === 'compile' || running.job.request.op === 'compile'
      ? this.options.timeoutMs * COMPILE_BUDGET_FACTOR
      : this.options.timeoutMs;
  }

  /** The thread's CPU clock in ns (the wall clock without /proc: budgets become wall-clock). */
  private cpu(slot: Slot): number {
    return threadCpuNs(slot.tid) ?? performance.now() * 1e6;
  }

  /** Checks the phase's CPU use when its budget could be spent; re-arms for the remainder. */
  private arm(slot: Slot, running: Running, delayMs = this.budgetMs(running)): void {
    clearTimeout(running.timer);
    running.timer = setTimeout(() => {
      if (slot.running !== running) return;
      const budget = this.budgetMs(running);
      const usedMs = (this.cpu(slot) - running.phaseStart) / 1e6;
      if (usedMs < budget) {
        this.arm(slot, running, Math.max(1, budget - usedMs));
        return;
      }
      const what = running.phase === 'compile' ? 'compiling the schema' : 'the check';
      this.logger.warn(
        { budgetMs: budget, phase: running.phase },
        'a schema used its CPU budget; replacing its worker',
      );
      this.fail(slot, new BudgetExceeded(`${what} used more than ${budget} ms of CPU (SCHEMA_TIMEOUT_MS)`));
    }, delayMs);
  }

  /** A new worker for the slot; it gets work once it says it is ready. */
  private startWorker(slot: Slot): void {
    const worker = new Worker(workerFile(), {
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb, maxYoungGenerationSizeMb: 8 },
      workerData: { testOps: this.options.testOps === true },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    slot.worker = worker;
    slot.tid = undefined;
    slot.ready = false;
    slot.idleCpu = undefined;
    slot.compiled.clear();
    worker.on('message', (message: WorkerMessage) => {
      if (slot.worker !== worker) return;
      if (message.kind === 'ready') {
        slot.tid = message.tid;
        slot.ready = true;
        for (const waiter of this.readyWaiters.splice(0)) waiter();
        this.pump();
        return;
      }
      const running = slot.running;
      if (message.kind === 'idle') {
        // Taken after the previous reply, before this request began: a valid, tighter start.
        slot.idleCpu = message.cpuNs;
        if (running !== undefined && !running.marked && slot.tid !== undefined && message.cpuNs !== undefined)
          running.phaseStart = Math.max(running.phaseStart, message.cpuNs);
        return;
      }
      if (running?.id !== message.id) return;
      if (message.kind === 'mark') {
        running.marked = true;
        running.phase = 'validate';
        running.phaseStart = slot.tid === undefined ? this.cpu(slot) : message.cpuNs;
        this.arm(slot, running);
        return;
      }
      clearTimeout(running.timer);
      slot.running = undefined;
      if (running.job.request.op !== 'test') this.remember(slot, running.job.request.hash, message.cached);
      const { kind: _kind, id: _id, cached: _cached, ...reply } = message;
      this.settle(running.job, reply);
      this.pump();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (slot.worker !== worker) return;
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.logger.warn({ err: error }, 'a schema worker failed; replacing it');
      this.fail(
        slot,
        outOfMemory
          ? new BudgetExceeded(`it needed more than ${this.options.heapMb} MiB (SCHEMA_WORKER_HEAP_MB)`)
          : new KernelError('OVERLOADED', `the schema worker failed (${error.message}); retry shortly`),
      );
    });
    worker.on('exit', () => {
      if (slot.worker !== worker || this.closed) return;
      this.fail(slot, new KernelError('OVERLOADED', 'the schema worker stopped; retry shortly'));
    });
  }

  /** Mirrors the worker's LRU of compiled schemas (same order, same size). */
  private remember(slot: Slot, hash: string, cached: boolean): void {
    slot.compiled.delete(hash);
    if (!cached) return;
    slot.compiled.set(hash, true);
    if (slot.compiled.size > MAX_COMPILED) slot.compiled.delete(slot.compiled.keys().next().value!);
  }

  /** Fails the slot's request, replaces its worker (work resumes once the new one is ready). */
  private fail(slot: Slot, error: Error): void {
    const old = slot.worker;
    const running = slot.running;
    slot.running = undefined;
    if (running !== undefined) {
      clearTimeout(running.timer);
      this.settle(running.job, error);
    }
    void old.terminate();
    if (!this.closed) this.startWorker(slot);
  }
}
