#!/usr/bin/env node
// Checks a live /metrics exposition (on stdin) two ways:
//   1. `promtool check metrics` finds no problem, except the listed ones in prom-client's standard
//      Node.js metrics (named by prom-client, used as-is by standard dashboards);
//   2. it serves exactly the metrics docs/observability.md lists under the given `### SECTION`
//      heading, with the documented type and label names.
// Usage: hack/check-metrics.mjs SECTION < exposition     (PROMTOOL names the promtool binary)
// Exits 1 listing every problem, 2 on bad usage.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// prom-client's gauges that end in _total; renaming them would break every Node.js dashboard.
const STANDARD_LINT_EXCEPTIONS = new Set([
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
]);
const STANDARD_PREFIXES = ['process_', 'nodejs_'];
const DOC = new URL('../docs/observability.md', import.meta.url);

/** `name -> {type, labels}` from the tables under `### section` (until the next heading). */
export function documentedMetrics(markdown, section) {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `### ${section}`);
  if (start < 0) throw new Error(`docs/observability.md has no "### ${section}" section`);
  const metrics = new Map();
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3} /.test(line)) break;
    const row = /^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \| (counter|gauge|histogram|summary) \|([^|]*)\|/.exec(
      line,
    );
    if (!row) continue;
    const labels = [...row[3].matchAll(/`([a-zA-Z_][a-zA-Z0-9_]*)`/g)].map((m) => m[1]).sort();
    metrics.set(row[1], { type: row[2], labels });
  }
  return metrics;
}

/** `name -> {type, labels}` from an exposition: TYPE lines, label names of the samples. */
export function servedMetrics(text) {
  const metrics = new Map();
  const suffixes = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count', ''] };
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    metrics.set(match[1], { type: match[2], labels: new Set() });
  }
  for (const match of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /gm)) {
    let name = match[1];
    if (!metrics.has(name)) {
      const family = [...metrics.entries()].find(([n, m]) =>
        (suffixes[m.type] ?? []).some((s) => s && name === n + s),
      );
      if (!family) continue;
      name = family[0];
    }
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (label[1] !== 'le' && label[1] !== 'quantile') metrics.get(name).labels.add(label[1]);
    }
  }
  return new Map([...metrics].map(([n, m]) => [n, { type: m.type, labels: [...m.labels].sort() }]));
}

/** Every difference between what is served and what is documented. */
export function compare(served, documented) {
  const problems = [];
  for (const [name, metric] of served) {
    if (STANDARD_PREFIXES.some((p) => name.startsWith(p))) continue;
    const doc = documented.get(name);
    if (!doc) {
      problems.push(`${name} is served but not documented`);
      continue;
    }
    if (doc.type !== metric.type) problems.push(`${name} is a ${metric.type}, documented as a ${doc.type}`);
    // A family with no samples yet (a histogram before its first request) shows no labels.
    const undocumented = metric.labels.filter((l) => !doc.labels.includes(l));
    if (undocumented.length > 0) problems.push(`${name} has undocumented labels ${undocumented.join(', ')}`);
    if (metric.labels.length > 0 && metric.labels.length !== doc.labels.length) {
      problems.push(
        `${name} serves labels [${metric.labels.join(', ')}], documented [${doc.labels.join(', ')}]`,
      );
    }
  }
  for (const name of documented.keys()) {
    if (!served.has(name)) problems.push(`${name} is documented but not served`);
  }
  return problems;
}

function promtoolProblems(text) {
  const promtool = process.env.PROMTOOL;
  if (!promtool) throw new Error('PROMTOOL must name the promtool binary (hack/build-tools.sh --print-env)');
  const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error) throw result.error;
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const problems = lines.filter((l) => !STANDARD_LINT_EXCEPTIONS.has(l)).map((l) => `promtool: ${l}`);
  if (result.status !== 0 && problems.length === 0 && lines.length === 0) {
    problems.push(`promtool check metrics exited ${String(result.status)}`);
  }
  return problems;
}

function main() {
  const section = process.argv[2];
  if (!section) {
    console.error('usage: hack/check-metrics.mjs SECTION < exposition');
    process.exit(2);
  }
  const text = readFileSync(0, 'utf8');
  const problems = [
    ...promtoolProblems(text),
    ...compare(servedMetrics(text), documentedMetrics(readFileSync(DOC, 'utf8'), section)),
  ];
  for (const problem of problems) console.error(problem);
  process.exit(problems.length === 0 ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
