// The Helm chart (charts/nexus-operator): lint-clean, equal to config/ with default values (CRD,
// RBAC, the operator's Deployment, Service, PDB and NetworkPolicy, and with monitoring on the
// objects of config/prometheus), and accepted by a real API server with default and full values.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  CHART_DIR,
  FULL_VALUES,
  MONITORING_ON,
  helmTemplate,
  objectKey,
  parseObjects,
  run,
  withoutHelmLabels,
  type K8sObject,
} from './harness/chart.js';
import { harnessState } from './harness/cluster.js';
import { CONFIG_DIR, CRDS_DIR } from './harness/paths.js';
import { useSuite } from './harness/suite.js';

const suite = useSuite('chart');

describe('the Helm chart', () => {
  const state = harnessState();
  const kustomize = (dir: string) => parseObjects(run(state.kubectl, ['kustomize', join(CONFIG_DIR, dir)]));

  test('helm lint passes with default and with full values', () => {
    expect(run(state.tools.helm, ['lint', '--strict', CHART_DIR])).toContain('0 chart(s) failed');
    expect(run(state.tools.helm, ['lint', '--strict', CHART_DIR, '-f', FULL_VALUES])).toContain(
      '0 chart(s) failed',
    );
  });

  test('its CRD, alerts and dashboards are byte copies of crds/ and config/prometheus (make chart-sync)', () => {
    const same = (chartFile: string, source: string) =>
      expect({ file: chartFile, text: readFileSync(join(CHART_DIR, chartFile), 'utf8') }).toEqual({
        file: chartFile,
        text: readFileSync(source, 'utf8'),
      });
    same('crds/nexus.dev_nexusruntimes.yaml', join(CRDS_DIR, 'nexus.dev_nexusruntimes.yaml'));
    same('files/prometheus-rule.yaml', join(CONFIG_DIR, 'prometheus/prometheus-rule.yaml'));
    const dashboards = readdirSync(join(CONFIG_DIR, 'prometheus/dashboards'));
    expect(readdirSync(join(CHART_DIR, 'files/dashboards')).sort()).toEqual(dashboards.sort());
    for (const file of dashboards) {
      same(`files/dashboards/${file}`, join(CONFIG_DIR, 'prometheus/dashboards', file));
    }
  });

  test('with default values it renders what config/default and config/prometheus install', () => {
    const fromConfig = [...kustomize('default'), ...kustomize('prometheus')].filter(
      (o) => o.kind !== 'Namespace', // `helm install --create-namespace` creates it
    );
    const fromChart = parseObjects(
      helmTemplate(state, {
        release: 'nexus-operator',
        namespace: 'nexus-system',
        includeCrds: true,
        set: MONITORING_ON,
      }),
    ).map(withoutHelmLabels);
    const byKey = (objects: K8sObject[]) => new Map(objects.map((o) => [objectKey(o), o]));
    const chart = byKey(fromChart);
    const config = byKey(fromConfig);
    expect([...chart.keys()].sort()).toEqual([...config.keys()].sort());
    for (const [key, object] of config) {
      // The CRD is compared byte for byte above: kustomize re-serialises its long descriptions.
      if (object.kind === 'CustomResourceDefinition') continue;
      expect({ key, object: chart.get(key) }).toEqual({ key, object });
    }
  });

  test('refuses bad values with a message naming them', () => {
    const refused = (set: string) => {
      const result = spawnSync(state.tools.helm, ['template', 'bad', CHART_DIR, '--set', set], {
        encoding: 'utf8',
      });
      return { status: result.status, stderr: result.stderr };
    };
    const failedWith = (text: string) => ({ status: 1, stderr: expect.stringContaining(text) as string });
    expect(refused('replicaCuont=2')).toEqual(failedWith("additional properties 'replicaCuont' not allowed"));
    expect(refused('logLevel=loud')).toEqual(failedWith('/logLevel'));
    expect(refused('watchNamespace=Team_A')).toEqual(failedWith('/watchNamespace'));
    expect(refused('leaderElection.enabled=false')).toEqual(
      failedWith('leaderElection.enabled=false needs replicaCount: 1'),
    );
  });

  test('without monitoring values it renders no Prometheus Operator object', () => {
    const kinds = parseObjects(helmTemplate(state, { release: 'plain', namespace: 'nexus-system' })).map(
      (o) => o.kind,
    );
    expect(kinds).not.toEqual(expect.arrayContaining(['ServiceMonitor']));
    expect(kinds.filter((k) => ['PodMonitor', 'PrometheusRule', 'ConfigMap'].includes(k))).toEqual([]);
  });

  // Server-side apply runs admission, schema validation and the CRDs' validation of the
  // ServiceMonitor, PodMonitor and PrometheusRule: what `helm install` would meet. The CRD is the
  // suite's own (installed from crds/, which the chart's copy equals).
  test.each([
    ['default values', 'chart-default', [] as string[], [] as string[]],
    ['full values', 'chart-full', [FULL_VALUES], ['watchNamespace=WATCHED']],
  ])('with %s it applies server-side to the control plane', (_what, release, valuesFiles, set) => {
    const namespace = suite.namespace;
    const rendered = helmTemplate(state, {
      release,
      namespace,
      valuesFiles,
      set: set.map((s) => s.replace('WATCHED', namespace)),
    });
    const objects = parseObjects(rendered);
    expect(objects.length).toBeGreaterThanOrEqual(9);
    const applied = suite.cluster.kubectl(
      ['apply', '--server-side', '--field-manager', `helm-${release}`, '-f', '-'],
      rendered,
    );
    expect({ status: applied.status, stderr: applied.stderr }).toEqual({ status: 0, stderr: '' });
    for (const o of objects) {
      const args = [
        'get',
        o.kind.toLowerCase() + (o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''),
      ];
      suite.cluster.kubectlOk([
        ...args,
        o.metadata.name,
        ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []),
      ]);
    }
    // Cluster-scoped objects outlive the suite's namespace.
    const clusterScoped = objects.filter((o) => !o.metadata.namespace);
    for (const o of clusterScoped) suite.cluster.kubectlOk(['delete', o.kind.toLowerCase(), o.metadata.name]);
  });
});
