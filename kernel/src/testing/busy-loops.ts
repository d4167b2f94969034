// Busy loops beside the kernels under test: N `node` children that spin on a core each, at the
// default priority, so a kernel shares the machine the way it does on a busy node or in a pod at
// its CPU limit. They are always stopped: by `stop()`, by the test environment when a test fails
// first, by PID when the test process exits — and each one also ends by itself when its parent is
// gone or its lifetime is over, so not even a SIGKILLed test run leaves one spinning.

import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { tracked } from './cleanup.js';

/** A busy loop that gives up after this long whatever happens to its parent. */
const DEFAULT_LIFETIME_MS = 10 * 60_000;

/** The loop: spins, and every few million turns checks its parent and its lifetime. */
const loopSource = (parent: number, lifetimeMs: number): string =>
  `const end = Date.now() + ${lifetimeMs};` +
  `for (let i = 1; ; i += 1) if ((i & 0x3fffff) === 0 && (process.ppid !== ${parent} || Date.now() > end)) process.exit(0);`;

export interface BusyLoops {
  readonly count: number;
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** One busy loop per core, plus one, so the kernels never have a core to themselves. */
export function everyCorePlusOne(): number {
  return availableParallelism() + 1;
}

export function startBusyLoops(count: number, lifetimeMs = DEFAULT_LIFETIME_MS): BusyLoops {
  const children: ChildProcess[] = [];
  const stops: (() => Promise<void>)[] = [];
  for (let i = 0; i < count; i += 1) {
    const child = spawn(process.execPath, ['-e', loopSource(process.pid, lifetimeMs)], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    children.push(child);
    stops.push(
      tracked(
        `busy loop pid ${child.pid}`,
        async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        child.pid,
      ),
    );
  }
  return {
    count,
    pids: children.flatMap((child) => (child.pid === undefined ? [] : [child.pid])),
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
