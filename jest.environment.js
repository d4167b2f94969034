// The test environment of every workspace: jest's node environment plus the cleanup of whatever a
// test file leaves running. Test harnesses register what they start in a set on the test's global
// object (kernel/src/testing/cleanup.ts); when the file ends — passed or failed — anything still
// registered is stopped here, newest first, each within a bound, and named on stderr. Child
// processes still registered when the process exits (the watchdog's exit, a crash) are killed by
// PID from the real process's 'exit' event, which the test's own `process` object never sees.
import { clearTimeout, setTimeout } from 'node:timers';
import { TestEnvironment } from 'jest-environment-node';

const REGISTRY = Symbol.for('nexus.testing.cleanup');
/** How long one leftover gets to stop gracefully before its process (if any) is killed. */
const STOP_BUDGET_MS = 15_000;

function killChildren(tracked) {
  for (const entry of tracked) {
    if (entry.pid === undefined) continue;
    try {
      process.kill(entry.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function stopWithin(entry, ms) {
  let timer;
  const outcome = await Promise.race([
    Promise.resolve()
      .then(() => entry.stop())
      .then(
        () => 'stopped',
        (error) => `failed to stop: ${error instanceof Error ? error.message : String(error)}`,
      ),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(`did not stop within ${ms} ms`), ms);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

export default class CleanupEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.tracked = new Set();
    this.global[REGISTRY] = this.tracked;
    this.onExit = () => killChildren(this.tracked);
    process.on('exit', this.onExit);
  }

  async teardown() {
    const left = [...this.tracked].reverse();
    if (left.length > 0) {
      const lines = [];
      for (const entry of left) {
        const outcome = await stopWithin(entry, STOP_BUDGET_MS);
        if (outcome !== 'stopped' && entry.pid !== undefined) killChildren([entry]);
        this.tracked.delete(entry);
        lines.push(`  - ${entry.name}: ${outcome}`);
      }
      process.stderr.write(
        `\n[cleanup] ${this.testPath} left ${left.length} thing(s) running (a test that failed, or one that does not stop what it starts):\n${lines.join('\n')}\n`,
      );
    }
    process.off('exit', this.onExit);
    await super.teardown();
  }
}
