// Messages between the kernel and its schema worker (worker.ts). Pure types and helpers.

export interface ValidationProblem {
  path: string;
  message: string;
}

export type WorkerRequest =
  | { readonly id: number; readonly op: 'compile'; readonly hash: string; readonly schema: string }
  | {
      readonly id: number;
      readonly op: 'validate';
      readonly hash: string;
      readonly schema: string;
      /** The arguments as JSON text. */
      readonly args: string;
    };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly problems: ValidationProblem[] }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** At most this many problems are reported for one validation, each message at most 256 chars. */
export const MAX_PROBLEMS = 20;
export const MAX_PROBLEM_CHARS = 256;
