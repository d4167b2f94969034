import {
  createMetrics,
  HANDLER_KINDS,
  HANDLER_STATUSES,
  HTTP_CLOSE_REASONS,
  WS_DROP_REASONS,
  type MetricSources,
} from './metrics.js';

function sources(overrides: Partial<MetricSources> = {}): MetricSources {
  return {
    version: '9.9.9',
    storeKind: 'redis',
    executionQueueMax: 64,
    panelCount: () => 7,
    storeAvailable: () => true,
    executionsInFlight: () => 3,
    executionsQueued: () => 2,
    httpUnsentBytes: () => 4096,
    ...overrides,
  };
}

const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('kernel metrics', () => {
  it('starts every known label value at 0, so rates over errors are 0 rather than absent', async () => {
    const text = await createMetrics(sources()).registry.metrics();
    for (const kind of HANDLER_KINDS) {
      for (const status of HANDLER_STATUSES) {
        expect(sample(text, `nexus_kernel_handler_executions_total{kind="${kind}",status="${status}"}`)).toBe(
          0,
        );
      }
    }
    for (const reason of WS_DROP_REASONS)
      expect(sample(text, `nexus_kernel_ws_dropped_total{reason="${reason}"}`)).toBe(0);
    expect(sample(text, 'nexus_kernel_bytecode_cache_total{result="miss"}')).toBe(0);
    for (const reason of HTTP_CLOSE_REASONS)
      expect(sample(text, `nexus_kernel_http_connections_closed_total{reason="${reason}"}`)).toBe(0);
  });

  it('reads its gauges from the sources at scrape time', async () => {
    const store: { available: boolean; panels?: number } = { available: true };
    const metrics = createMetrics(
      sources({ storeAvailable: () => store.available, panelCount: () => store.panels }),
    );
    let text = await metrics.registry.metrics();
    expect(sample(text, `nexus_kernel_build_info{version="9.9.9",nodejs="${process.version}"}`)).toBe(1);
    expect(sample(text, 'nexus_kernel_store_up{kind="redis"}')).toBe(1);
    expect(sample(text, 'nexus_kernel_executions_in_flight')).toBe(3);
    expect(sample(text, 'nexus_kernel_execution_queue_depth')).toBe(2);
    expect(sample(text, 'nexus_kernel_execution_queue_max')).toBe(64);
    expect(sample(text, 'nexus_kernel_http_unsent_bytes')).toBe(4096);
    // Not counted yet: prom-client's unlabelled gauges read 0 until first set.
    expect(sample(text, 'nexus_kernel_store_panels')).toBe(0);
    store.available = false;
    store.panels = 12;
    text = await metrics.registry.metrics();
    expect(sample(text, 'nexus_kernel_store_up{kind="redis"}')).toBe(0);
    expect(sample(text, 'nexus_kernel_store_panels')).toBe(12);
  });

  it('exports standard process metrics unprefixed and no pool figures of its own', async () => {
    const names = (await createMetrics(sources()).registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('process_resident_memory_bytes');
    expect(names.filter((n) => /^nexus_kernel_(pool|sandbox_cache)_/.test(n))).toEqual([]);
  });
});
