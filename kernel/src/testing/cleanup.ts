// Everything a test starts — kernels, child processes, Redis servers, sockets, HTTP servers, busy
// loops — is registered here as it starts and unregistered when the test stops it. Whatever a
// failing test leaves running is stopped by the jest environment (jest.environment.js at the
// repository root) when the test file ends, and child processes are killed by PID when the
// process exits, so a failed assertion never leaves a kernel or a Redis server keeping jest alive.
//
// The set lives on the global object under a registered symbol: the environment creates it
// outside the test's module registry and reads it back at teardown. Outside jest (the benchmarks)
// this module keeps a set of its own and kills its children on exit.

export interface Tracked {
  /** What it is, for the report of what a test left running. */
  readonly name: string;
  /** Stops it gracefully; called at most once by the cleanup. */
  stop(): Promise<void>;
  /** A child process to SIGKILL when the process exits with it still running. */
  readonly pid?: number | undefined;
}

const REGISTRY = Symbol.for('nexus.testing.cleanup');

type Holder = { [REGISTRY]?: Set<Tracked> };

function registry(): Set<Tracked> {
  const holder = globalThis as Holder;
  if (holder[REGISTRY] === undefined) {
    // Not under the jest environment: a process of our own, whose 'exit' event we can hear.
    const own = new Set<Tracked>();
    holder[REGISTRY] = own;
    process.once('exit', () => killChildren(own));
  }
  return holder[REGISTRY];
}

/** SIGKILLs every tracked child process (synchronous: usable from an 'exit' handler). */
export function killChildren(tracked: Iterable<Tracked>): void {
  for (const entry of tracked) {
    if (entry.pid === undefined) continue;
    try {
      process.kill(entry.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Registers something a test started; call the returned function once it is stopped. */
export function track(entry: Tracked): () => void {
  const set = registry();
  set.add(entry);
  return () => {
    set.delete(entry);
  };
}

/** Wraps `stop` so that stopping also unregisters, and a second call is the first one's promise. */
export function tracked(name: string, stop: () => Promise<void>, pid?: number): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const untrack = track({ name, pid, stop: () => (stopping ??= stop()) });
  return () => {
    stopping ??= stop();
    return stopping.finally(untrack);
  };
}

/** What is registered now (for tests of the harness itself). */
export function running(): readonly Tracked[] {
  return [...registry()];
}
