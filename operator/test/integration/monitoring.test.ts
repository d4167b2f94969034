// config/prometheus as Prometheus would run it: the rules pass `promtool check rules` and their
// unit tests (`promtool test rules`, series in, alerts out); every alert names its runtime and has
// a runbook in docs/observability.md; every metric an alert or a dashboard query names is one the
// project exports or a listed standard one; and a live operator's /metrics passes
// `promtool check metrics` and matches the metrics reference.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import yaml from 'js-yaml';

import { run } from './harness/chart.js';
import { harnessState } from './harness/cluster.js';
import { OperatorProcess } from './harness/operator-process.js';
import { CONFIG_DIR, HACK_DIR, REPO_ROOT } from './harness/paths.js';
import { useSuite, waitReady } from './harness/suite.js';

const suite = useSuite('monitoring');
const PROMETHEUS_DIR = join(CONFIG_DIR, 'prometheus');
const DOC = readFileSync(join(REPO_ROOT, 'docs/observability.md'), 'utf8');

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleSpec {
  groups: { name: string; rules: Rule[] }[];
}

const ruleSpec = (
  yaml.load(readFileSync(join(PROMETHEUS_DIR, 'prometheus-rule.yaml'), 'utf8')) as { spec: RuleSpec }
).spec;
const alerts = ruleSpec.groups.flatMap((g) => g.rules.map((rule) => ({ group: g.name, ...rule })));

interface DashboardPanel {
  title: string;
  targets?: { expr: string }[];
}
const dashboards = ['nexus-runtimes.json'].map(
  (file) =>
    JSON.parse(readFileSync(join(PROMETHEUS_DIR, 'dashboards', file), 'utf8')) as {
      panels: DashboardPanel[];
    },
);

/** GitHub's anchor of a markdown heading. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
const docAnchors = new Set([...DOC.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!)));

/** Metric names of the reference tables, and the standard ones the doc lists for alerts and dashboards. */
function knownMetrics(): Set<string> {
  const names = new Set<string>();
  for (const row of DOC.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram) \|/gm)) {
    names.add(row[1]!);
    if (row[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(row[1]! + s);
  }
  return names;
}

/** The metric names each expression selects, by Prometheus's own parser (hack/tools/promql-metrics). */
function metricNames(expressions: string[]): string[][] {
  return JSON.parse(run(harnessState().tools.promqlMetrics, [], JSON.stringify(expressions))) as string[][];
}

/** Grafana's variables, replaced by what PromQL can parse. */
const withoutVariables = (expr: string) =>
  expr.replaceAll('$__rate_interval', '5m').replace(/\$(namespace|runtime)\b/g, '.*');

describe('the alerts of config/prometheus', () => {
  const state = harnessState();

  test('pass promtool check rules and promtool test rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-rules-'));
    writeFileSync(join(dir, 'rules.yaml'), yaml.dump(ruleSpec));
    copyFileSync(join(PROMETHEUS_DIR, 'tests/alerts.test.yaml'), join(dir, 'alerts.test.yaml'));
    expect(run(state.tools.promtool, ['check', 'rules', join(dir, 'rules.yaml')])).toContain(
      `SUCCESS: ${alerts.length} rules found`,
    );
    const tested = spawnSync(state.tools.promtool, ['test', 'rules', join(dir, 'alerts.test.yaml')], {
      encoding: 'utf8',
    });
    expect({ status: tested.status, output: tested.stdout + tested.stderr }).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS') as string,
    });
  });

  test('every alert is unit-tested, has a severity, a summary, a description naming its object and a runbook', () => {
    const tests = readFileSync(join(PROMETHEUS_DIR, 'tests/alerts.test.yaml'), 'utf8');
    expect(alerts.length).toBeGreaterThanOrEqual(12);
    for (const a of alerts) {
      expect({
        alert: a.alert,
        tested: tests.includes(`alertname: ${a.alert}\n        exp_alerts:`),
      }).toEqual({
        alert: a.alert,
        tested: true,
      });
      expect(['critical', 'warning']).toContain(a.labels?.severity);
      expect(a.annotations?.summary).toMatch(/\S/);
      const description = a.annotations?.description ?? '';
      if (a.group === 'nexus-operator') {
        // Operator alerts name its namespace, except the one that fires when nothing is scraped.
        if (a.alert !== 'NexusOperatorDown') expect(description).toContain('{{ $labels.namespace }}');
      } else {
        expect({ alert: a.alert, description }).toEqual({
          alert: a.alert,
          description: expect.stringContaining('{{ $labels.namespace }}/{{ $labels.runtime }}') as string,
        });
      }
      const runbook = /^docs\/observability\.md#(.+)$/.exec(a.annotations?.runbook ?? '');
      expect({ alert: a.alert, runbook: runbook?.[1] }).toEqual({
        alert: a.alert,
        runbook: a.alert.toLowerCase(),
      });
      expect({ alert: a.alert, section: docAnchors.has(runbook![1]!) }).toEqual({
        alert: a.alert,
        section: true,
      });
    }
  });

  test('alerts and dashboards query only metrics the project exports or the listed standard ones', () => {
    const known = knownMetrics();
    expect(known.size).toBeGreaterThan(40);
    const queries = [
      ...alerts.map((a) => ({ where: `alert ${a.alert}`, expr: a.expr })),
      ...dashboards.flatMap((d) =>
        d.panels.flatMap((p) =>
          (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: withoutVariables(t.expr) })),
        ),
      ),
    ];
    expect(queries.length).toBeGreaterThan(30);
    const names = metricNames(queries.map((q) => q.expr));
    const unknown = queries.flatMap((q, i) =>
      names[i]!.filter((n) => !known.has(n)).map((n) => `${q.where}: ${n}`),
    );
    expect(unknown).toEqual([]);
    // The checker itself rejects a name nobody exports.
    expect(metricNames(['rate(nexus_kernel_made_up_total[5m])'])).toEqual([['nexus_kernel_made_up_total']]);
  });
});

describe("a live operator's /metrics", () => {
  beforeAll(() => {
    suite.cluster.kubectlOk(
      ['apply', '-n', suite.namespace, '-f', '-'],
      yaml.dump({
        apiVersion: 'nexus.dev/v1alpha1',
        kind: 'NexusRuntime',
        metadata: { name: 'scraped' },
        spec: {},
      }),
    );
  });

  test('passes promtool check metrics and serves exactly the reference of docs/observability.md', async () => {
    const operator = await OperatorProcess.start(suite.cluster.state, { identity: 'monitoring' });
    await waitReady(suite, 'scraped');
    const text = await operator.metrics();
    expect(text).toContain(
      `nexus_operator_runtime_condition{namespace="${suite.namespace}",runtime="scraped"`,
    );
    const checked = spawnSync(process.execPath, [join(HACK_DIR, 'check-metrics.mjs'), 'Operator'], {
      input: text,
      encoding: 'utf8',
      env: { ...process.env, PROMTOOL: suite.cluster.state.tools.promtool },
    });
    expect({ status: checked.status, problems: checked.stderr }).toEqual({ status: 0, problems: '' });
  });
});
