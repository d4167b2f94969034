import { performance } from 'node:perf_hooks';

import { summariseLatency } from './stats.js';
import type { LatencySummary } from './stats.js';
import type { Execute, Peer } from './peers/peer.js';

export type Progress = (message: string) => void;

/** What one execution cost the whole process, averaged over a run (every thread included). */
export interface ProcessCost {
  userUs: number;
  systemUs: number;
  minorFaults: number;
}

export function processCostPer(
  before: NodeJS.ResourceUsage,
  after: NodeJS.ResourceUsage,
  runs: number,
): ProcessCost {
  return {
    userUs: (after.userCPUTime - before.userCPUTime) / runs,
    systemUs: (after.systemCPUTime - before.systemCPUTime) / runs,
    minorFaults: (after.minorPageFault - before.minorPageFault) / runs,
  };
}

/** Sequential executions, each timed from the caller's side: the latency a user sees. */
export async function measureLatency(
  execute: Execute,
  options: { warmup: number; iterations: number; label: string; progress: Progress },
): Promise<LatencySummary & { cost: ProcessCost }> {
  for (let i = 0; i < options.warmup; i++) await execute();
  const before = process.resourceUsage();
  const samples: number[] = [];
  const step = Math.max(1, Math.floor(options.iterations / 4));
  for (let i = 0; i < options.iterations; i++) {
    const start = performance.now();
    await execute();
    samples.push((performance.now() - start) * 1000);
    if ((i + 1) % step === 0) options.progress(`${options.label} ${i + 1}/${options.iterations}`);
  }
  return {
    ...summariseLatency(samples),
    cost: processCostPer(before, process.resourceUsage(), options.iterations),
  };
}

/** Keeps `concurrency` executions in flight for `durationMs` and counts completions per second. */
export async function measureThroughput(
  execute: Execute,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  const start = performance.now();
  const deadline = start + durationMs;
  let completed = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await execute();
      completed += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return completed / ((performance.now() - start) / 1000);
}

function settledRss(): number {
  // --expose-gc is passed by the runner; without it the figure includes collectable garbage.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage.rss();
}

export interface ParkedSummary {
  count: number;
  rssBeforeBytes: number;
  rssParkedBytes: number;
  bytesPerParked: number;
}

/** Resident memory added by `count` handlers parked on a pending host call. */
export async function measureParked(peer: Peer, count: number, progress: Progress): Promise<ParkedSummary> {
  // One parked handler first, so one-off costs (module compilation, pools) land in the baseline.
  const warm = await peer.park(1);
  await warm.release();
  const rssBeforeBytes = settledRss();
  progress(`parking ${count} handlers`);
  const parked = await peer.park(count);
  const rssParkedBytes = settledRss();
  progress('releasing them');
  await parked.release();
  return {
    count,
    rssBeforeBytes,
    rssParkedBytes,
    bytesPerParked: (rssParkedBytes - rssBeforeBytes) / count,
  };
}
