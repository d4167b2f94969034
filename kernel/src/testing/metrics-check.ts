// Runs hack/check-metrics.mjs over an exposition: `promtool check metrics` plus a comparison with
// the metrics reference in docs/observability.md. promtool comes from hack/build-tools.sh (built
// once from the Go module proxy and cached; `make test-kernel` builds it before the suites).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HACK = fileURLToPath(new URL('../../../hack/', import.meta.url));

let promtool: string | undefined;

function promtoolPath(): string {
  if (process.env.PROMTOOL) return process.env.PROMTOOL;
  if (promtool) return promtool;
  const result = spawnSync(`${HACK}build-tools.sh`, ['--print-env'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const found = /^PROMTOOL=(.+)$/m.exec(result.stdout ?? '');
  if (result.status !== 0 || !found) throw new Error('hack/build-tools.sh could not provide promtool');
  promtool = found[1]!;
  return promtool;
}

/** Problems found in `text` against the `### section` of the metrics reference; [] when clean. */
export function checkMetrics(text: string, section: string): string[] {
  const result = spawnSync(process.execPath, [`${HACK}check-metrics.mjs`, section], {
    input: text,
    encoding: 'utf8',
    env: { ...process.env, PROMTOOL: promtoolPath() },
  });
  const problems = result.stderr.split('\n').filter((line) => line.trim() !== '');
  if (result.status !== 0 && problems.length === 0) problems.push(`exit ${String(result.status)}`);
  return problems;
}
