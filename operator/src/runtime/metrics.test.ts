import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { NexusRuntime } from '../api/types.js';
import { runtime } from '../testing/fixtures.js';
import { NO_RESPONSE, OPERATOR_VERSION, OperatorMetrics, SUCCESS } from './metrics.js';

type Values = MetricValue<string>[];

async function values(metrics: OperatorMetrics, name: string): Promise<Values> {
  const all = await metrics.registry.getMetricsAsJSON();
  const found: MetricObjectWithValues<MetricValue<string>> | undefined = all.find((m) => m.name === name);
  return found?.values ?? [];
}

const withStatus = (r: NexusRuntime, status: NexusRuntime['status']): NexusRuntime => ({ ...r, status });

const ready = withStatus(runtime({ autoscaling: { maxReplicas: 4 } }, 'ready', 'team-a'), {
  conditions: [
    { type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: '' },
    { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '', lastTransitionTime: '' },
  ],
  desiredReplicas: 4,
  readyReplicas: 3,
  memoryBudget: {
    limitMB: 1024,
    requestMB: 256,
    overheadMB: 157,
    cacheMB: 128,
    panelCacheMB: 64,
    instanceMB: 64,
    maxInstances: 10,
    maxInstancesDerived: true,
    requiredMB: 989,
    headroomMB: 35,
    fits: true,
  },
});
const fresh = runtime({ suspend: true, autoscaling: { enabled: false } }, 'fresh', 'team-b');

describe('OperatorMetrics', () => {
  it('starts every reconcile result and informer kind at 0, so rates are 0 rather than absent', async () => {
    const metrics = new OperatorMetrics();
    const results = await values(metrics, 'nexus_operator_reconcile_total');
    expect(results.map((v) => [v.labels.result, v.value]).sort()).toEqual([
      ['error', 0],
      ['requeue', 0],
      ['success', 0],
    ]);
    const kinds = (await values(metrics, 'nexus_operator_informer_restarts_total')).map((v) => v.labels.kind);
    expect(kinds).toEqual(expect.arrayContaining(['NexusRuntime', 'Deployment', 'StatefulSet', 'Secret']));
    expect(await values(metrics, 'nexus_operator_leader')).toEqual([expect.objectContaining({ value: 0 })]);
  });

  it('exports build info and unprefixed process metrics', async () => {
    const metrics = new OperatorMetrics();
    expect(await values(metrics, 'nexus_operator_build_info')).toEqual([
      { labels: { version: OPERATOR_VERSION, nodejs: process.version }, value: 1 },
    ]);
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    expect(
      names.filter((n) => n.startsWith('nexus_operator_process_') || n.startsWith('nexus_operator_nodejs_')),
    ).toEqual([]);
  });

  it('describes runtimes only while leading: a standby exports none', async () => {
    const metrics = new OperatorMetrics({ runtimes: () => [ready, fresh] });
    expect(await values(metrics, 'nexus_operator_runtime_condition')).toEqual([]);
    expect(await values(metrics, 'nexus_operator_runtimes')).toEqual([]);
    metrics.setLeading(true);
    expect(await values(metrics, 'nexus_operator_leader')).toEqual([expect.objectContaining({ value: 1 })]);
    expect((await values(metrics, 'nexus_operator_runtime_condition')).length).toBe(2 * 4 * 3);
    metrics.setLeading(false);
    expect(await values(metrics, 'nexus_operator_runtime_condition')).toEqual([]);
    expect(await values(metrics, 'nexus_operator_runtime_ready_replicas')).toEqual([]);
  });

  it('gives each runtime one series per condition type and status, 1 for the status it has', async () => {
    const metrics = new OperatorMetrics({ runtimes: () => [ready, fresh] });
    metrics.setLeading(true);
    const conditions = await values(metrics, 'nexus_operator_runtime_condition');
    const ones = conditions
      .filter((v) => v.value === 1)
      .map((v) => `${v.labels.namespace}/${v.labels.runtime} ${v.labels.type}=${v.labels.status}`)
      .sort();
    expect(ones).toEqual([
      'team-a/ready Degraded=False',
      'team-a/ready Progressing=Unknown',
      'team-a/ready Ready=True',
      'team-a/ready StoreReady=Unknown',
      'team-b/fresh Degraded=Unknown',
      'team-b/fresh Progressing=Unknown',
      'team-b/fresh Ready=Unknown',
      'team-b/fresh StoreReady=Unknown',
    ]);
    expect(await values(metrics, 'nexus_operator_runtimes')).toEqual(
      expect.arrayContaining([{ labels: { condition: 'Ready', status: 'True' }, value: 1 }]),
    );
  });

  it('exports replicas, the autoscaling ceiling and the memory budget in bytes', async () => {
    const metrics = new OperatorMetrics({ runtimes: () => [ready, fresh] });
    metrics.setLeading(true);
    const byRuntime = async (name: string): Promise<Record<string, number>> =>
      Object.fromEntries((await values(metrics, name)).map((v) => [String(v.labels.runtime), v.value]));
    expect(await byRuntime('nexus_operator_runtime_desired_replicas')).toEqual({ ready: 4 });
    expect(await byRuntime('nexus_operator_runtime_ready_replicas')).toEqual({ ready: 3 });
    // Autoscaling is on by default (maxReplicas given here); `fresh` turned it off.
    expect(await byRuntime('nexus_operator_runtime_max_replicas')).toEqual({ ready: 4 });
    expect(await byRuntime('nexus_operator_runtime_suspended')).toEqual({ ready: 0, fresh: 1 });
    const MiB = 1024 * 1024;
    expect(await byRuntime('nexus_operator_runtime_memory_limit_bytes')).toEqual({ ready: 1024 * MiB });
    expect(await byRuntime('nexus_operator_runtime_memory_request_bytes')).toEqual({ ready: 256 * MiB });
    expect(await byRuntime('nexus_operator_runtime_memory_budget_bytes')).toEqual({ ready: 989 * MiB });
  });

  it('counts API requests by the status code they ended with', async () => {
    const metrics = new OperatorMetrics();
    await metrics.countRequest('apply', 'Service', () => Promise.resolve({}));
    const conflict = Object.assign(new Error('conflict'), { code: 409 });
    await expect(metrics.countRequest('create', 'Secret', () => Promise.reject(conflict))).rejects.toBe(
      conflict,
    );
    await expect(
      metrics.countRequest('get', 'Lease', () => Promise.reject(new Error('ECONNREFUSED'))),
    ).rejects.toThrow('ECONNREFUSED');
    const requests = (await values(metrics, 'nexus_operator_api_requests_total')).map(
      (v) => `${v.labels.verb} ${v.labels.kind} ${v.labels.code} ${v.value}`,
    );
    expect(requests.sort()).toEqual([
      `apply Service ${SUCCESS} 1`,
      'create Secret 409 1',
      `get Lease ${NO_RESPONSE} 1`,
    ]);
  });
});
