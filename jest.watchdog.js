// A jest reporter that makes a stuck run fail loudly within minutes instead of running to CI's
// limit. It watches three things and, when one fires, prints what is still running (test files,
// the test each was in, this process's open handles and child processes) and exits non-zero:
//   - a test file running longer than `fileMinutes` (jest's testTimeout bounds one test or hook,
//     not a file of many, nor a hang outside them);
//   - the process still alive `exitGraceSeconds` after the run completed ("Jest did not exit one
//     second after the test run has completed" would otherwise wait forever);
//   - SIGTERM (make's `timeout` around jest): the same report, then exit, so the environment's
//     'exit' hook kills the children the tests started.
// Timers are unref'd: the watchdog never keeps a finished run alive. JEST_WATCHDOG_FILE_MINUTES
// overrides `fileMinutes` (a slow machine, a debugging session).
import { execFileSync } from 'node:child_process';
import { clearInterval, setInterval, setTimeout } from 'node:timers';

const CHECK_EVERY_MS = 5_000;

function children() {
  try {
    return execFileSync('ps', ['-o', 'pid=,etime=,args=', '--ppid', String(process.pid)], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes(' ps -o '));
  } catch {
    return [];
  }
}

function openHandles() {
  const counts = new Map();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${kind} ×${count}`).join(', ');
}

export default class Watchdog {
  constructor(globalConfig, options = {}) {
    const fromEnv = Number(process.env.JEST_WATCHDOG_FILE_MINUTES);
    // A run that raises the per-test timeout (--testTimeout, the benchmarks) gets at least twice it.
    const perTest = (globalConfig.testTimeout ?? 0) * 2;
    this.fileLimitMs =
      fromEnv > 0 ? fromEnv * 60_000 : Math.max((options.fileMinutes ?? 10) * 60_000, perTest);
    this.exitGraceMs = (options.exitGraceSeconds ?? 30) * 1000;
    /** test file → { started, test: the test case last started in it } */
    this.running = new Map();
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
    this.onSigterm = () => this.stop('jest received SIGTERM (a time limit around the run?)', 143);
    process.once('SIGTERM', this.onSigterm);
  }

  onTestFileStart(test) {
    this.running.set(test.path, { started: Date.now(), test: undefined });
  }

  onTestCaseStart(test, info) {
    const entry = this.running.get(test.path);
    if (entry !== undefined) entry.test = info.fullName;
  }

  onTestFileResult(test) {
    this.running.delete(test.path);
  }

  onRunComplete() {
    clearInterval(this.timer);
    const late = setTimeout(
      () =>
        this.stop(
          `jest is still running ${this.exitGraceMs / 1000} s after the test run completed: something a test started was never stopped`,
          1,
        ),
      this.exitGraceMs,
    );
    late.unref();
  }

  check() {
    const now = Date.now();
    for (const [path, { started }] of this.running) {
      if (now - started > this.fileLimitMs) {
        this.stop(
          `${path} has run for ${((now - started) / 60_000).toFixed(1)} min (limit ${(this.fileLimitMs / 60_000).toFixed(1)} min)`,
          1,
        );
        return;
      }
    }
  }

  stop(reason, code) {
    const lines = [`\n[watchdog] ${reason}; stopping jest.`];
    for (const [path, { started, test }] of this.running)
      lines.push(
        `  still running: ${path} for ${Math.round((Date.now() - started) / 1000)} s${test === undefined ? '' : `, last test started: "${test}"`}`,
      );
    lines.push(`  open handles in this process: ${openHandles() || 'none'}`);
    const kids = children();
    lines.push(kids.length === 0 ? '  child processes: none' : '  child processes:');
    for (const kid of kids) lines.push(`    ${kid.trim()}`);
    process.stderr.write(`${lines.join('\n')}\n`);
    process.exit(code);
  }

  getLastError() {
    return undefined;
  }
}
