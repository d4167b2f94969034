// A thread's own CPU time, which Node 20 does not expose per thread: Linux's
// /proc/<pid>/task/<tid>/schedstat starts with the nanoseconds the thread has run on a CPU. A worker
// learns its tid from /proc/thread-self; its parent reads the clock by tid when a budget timer
// fires. Where /proc is missing, budgets fall back to the wall clock (undefined here).

import { readFileSync, readlinkSync } from 'node:fs';

/** The calling thread's Linux thread id, or undefined without /proc. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

function parse(text: string): number | undefined {
  const ns = Number(text.slice(0, text.indexOf(' ')));
  return Number.isFinite(ns) ? ns : undefined;
}

/** CPU time (ns) thread `tid` of this process has used, or undefined when it cannot be read. */
export function threadCpuNs(tid: number | undefined): number | undefined {
  if (tid === undefined) return undefined;
  try {
    return parse(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** CPU time (ns) the calling thread has used, or undefined. */
export function ownCpuNs(): number | undefined {
  try {
    return parse(readFileSync('/proc/thread-self/schedstat', 'latin1'));
  } catch {
    return undefined;
  }
}
