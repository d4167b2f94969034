// Messages between the kernel and its schema workers (worker.ts). Pure types and helpers.

export interface ValidationProblem {
  path: string;
  message: string;
}

/** Operations only a validator started with `testOps` accepts: CPU-accounting and fairness tests. */
export interface TestOp {
  readonly op: 'test';
  /** Blocks the thread without using CPU (Atomics.wait), then spins on the CPU. */
  readonly stallMs: number;
  readonly spinMs: number;
}

export type WorkerRequest = { readonly id: number } & (
  | { readonly op: 'compile'; readonly hash: string; readonly schema: string }
  | {
      readonly op: 'validate';
      readonly hash: string;
      readonly schema: string;
      /** The arguments as JSON text. */
      readonly args: string;
    }
  | TestOp
);

export type WorkerMessage =
  /** The thread is up; `tid` is its Linux thread id (for its CPU clock), when /proc has it. */
  | { readonly kind: 'ready'; readonly tid: number | undefined }
  /**
   * Sent after `ready` and after a reply once requests took 5 ms since the last: the thread's CPU
   * clock while idle, where the next request's budget starts (read after the reply, so no request
   * waits for the read).
   */
  | { readonly kind: 'idle'; readonly cpuNs: number | undefined }
  /** Request `id` compiled its schema; its thread had used `cpuNs` of CPU then. */
  | { readonly kind: 'mark'; readonly id: number; readonly cpuNs: number }
  | ({ readonly kind: 'reply'; readonly id: number; readonly cached: boolean } & WorkerReply);

export type WorkerReply =
  /** `problems`: of the arguments (validate) or of the schema, with pointers inside it (compile). */
  | { readonly ok: true; readonly problems: ValidationProblem[] }
  | { readonly ok: false; readonly message: string };

/** At most this many problems are reported for one validation, each message at most 256 chars. */
export const MAX_PROBLEMS = 20;
export const MAX_PROBLEM_CHARS = 256;
