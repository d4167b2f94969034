// Runs an attack against a kernel while probing /health, for the hostile suites and the hostile
// benchmark: every probe must be answered, and the worst answer time is reported.

import { readFileSync } from 'node:fs';

export interface UnderAttack<T> {
  readonly result: T;
  /** Slowest /health answer while the attack ran, ms. */
  readonly worstHealthMs: number;
  readonly probes: number;
  /** Probes that failed or were not answered within `deadlineMs`. */
  readonly failedProbes: number;
}

/** Probes `${url}/health` every `everyMs` while `attack` runs. */
export async function underAttack<T>(
  url: string,
  attack: () => Promise<T>,
  options: { everyMs?: number; deadlineMs?: number } = {},
): Promise<UnderAttack<T>> {
  const everyMs = options.everyMs ?? 50;
  const deadlineMs = options.deadlineMs ?? 2000;
  let running = true;
  let worst = 0;
  let probes = 0;
  let failed = 0;
  const prober = (async () => {
    while (running) {
      const started = performance.now();
      const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(deadlineMs) }).then(
        (response) => response.status === 200,
        () => false,
      );
      const took = performance.now() - started;
      probes += 1;
      worst = Math.max(worst, took);
      if (!ok) failed += 1;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  try {
    const result = await attack();
    return { result, worstHealthMs: worst, probes, failedProbes: failed };
  } finally {
    running = false;
    await prober;
  }
}

/** Resident set size of a process, MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Samples a process' RSS every `everyMs` until stopped; a process that died counts as unbounded. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      peak = Number.POSITIVE_INFINITY;
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
