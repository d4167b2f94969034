import { parseMetricSamples } from './operator-process.js';

const exposition = `# HELP nexus_operator_reconcile_total Reconcile passes by result
# TYPE nexus_operator_reconcile_total counter
nexus_operator_reconcile_total{result="success"} 12
nexus_operator_reconcile_total{result="error"} 1
nexus_operator_reconcile_total_extra 99
nexus_operator_leader 1
`;

describe('parseMetricSamples', () => {
  test('reads every series of one metric with its labels', () => {
    expect(parseMetricSamples(exposition, 'nexus_operator_reconcile_total')).toEqual([
      { labels: { result: 'success' }, value: 12 },
      { labels: { result: 'error' }, value: 1 },
    ]);
  });

  test('reads an unlabelled metric and ignores comments and other metrics', () => {
    expect(parseMetricSamples(exposition, 'nexus_operator_leader')).toEqual([{ labels: {}, value: 1 }]);
    expect(parseMetricSamples(exposition, 'nexus_operator_missing')).toEqual([]);
  });
});
