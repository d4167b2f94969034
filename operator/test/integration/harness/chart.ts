// The chart as the tests use it: helm from hack/build-tools.sh, rendered objects parsed, and the
// comparison of the chart's objects with what kustomize builds from config/.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import yaml from 'js-yaml';

import type { HarnessState } from './cluster.js';
import { REPO_ROOT } from './paths.js';

export const CHART_DIR = join(REPO_ROOT, 'charts/nexus-operator');
export const FULL_VALUES = join(CHART_DIR, 'ci/full-values.yaml');

/** Every optional monitoring object on: what `kubectl apply -k config/prometheus` adds. */
export const MONITORING_ON = [
  'metrics.serviceMonitor.enabled=true',
  'kernelPodMonitor.enabled=true',
  'prometheusRule.enabled=true',
  'dashboards.enabled=true',
];

/** Labels Helm adds that kustomize's install has no counterpart for. */
const HELM_ONLY_LABELS = ['app.kubernetes.io/managed-by', 'helm.sh/chart'];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${String(result.status)}):\n${result.stderr}`);
  }
  return result.stdout;
}

export function parseObjects(text: string): K8sObject[] {
  return (yaml.loadAll(text) as (K8sObject | null)[]).filter((o): o is K8sObject => o !== null);
}

export interface RenderOptions {
  release: string;
  namespace: string;
  valuesFiles?: string[];
  set?: string[];
  includeCrds?: boolean;
}

export function helmTemplate(state: HarnessState, options: RenderOptions): string {
  return run(state.tools.helm, [
    'template',
    options.release,
    CHART_DIR,
    '--namespace',
    options.namespace,
    ...(options.includeCrds ? ['--include-crds'] : []),
    ...(options.valuesFiles ?? []).flatMap((f) => ['-f', f]),
    ...(options.set ?? []).flatMap((s) => ['--set', s]),
  ]);
}

export const objectKey = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The chart's object as kustomize would have built it: without the labels only Helm adds. */
export function withoutHelmLabels(object: K8sObject): K8sObject {
  const labels = Object.fromEntries(
    Object.entries(object.metadata.labels ?? {}).filter(([k]) => !HELM_ONLY_LABELS.includes(k)),
  );
  return { ...object, metadata: { ...object.metadata, labels } };
}
