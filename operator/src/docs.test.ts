// The documentation lists what the code defines: every field, reason, variable and metric.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Reason } from './api/conditions.js';
import { EMBEDDED_PATHS, openAPIV3Schema, type JSONSchema } from './api/schema.js';
import { EventReason } from './controller/events.js';
import { OperatorMetrics } from './runtime/metrics.js';

const doc = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../docs/${name}`, import.meta.url)), 'utf8');

function fieldPaths(schema: JSONSchema, path: string): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => {
    const here = `${path}.${key}`;
    const nested =
      child.type === 'array' && child.items?.properties ? fieldPaths(child.items, `${here}[]`) : [];
    const embedded = (EMBEDDED_PATHS as readonly string[]).includes(here);
    if (embedded) return [here];
    const deeper = child['x-kubernetes-preserve-unknown-fields'] ? [] : fieldPaths(child, here);
    return [here, ...nested, ...deeper];
  });
}

describe('docs/crd-reference.md', () => {
  const reference = doc('crd-reference.md');

  it('documents every spec and status field', () => {
    const paths = [
      ...fieldPaths(openAPIV3Schema.properties!.spec!, 'spec'),
      ...fieldPaths(openAPIV3Schema.properties!.status!, 'status'),
    ];
    expect(paths.length).toBeGreaterThan(80);
    expect(paths.filter((p) => !reference.includes(`\`${p}\``))).toEqual([]);
  });

  it('documents every condition reason and event reason', () => {
    const reasons = [...Object.values(Reason), ...Object.values(EventReason)];
    expect(reasons.filter((r) => !reference.includes(`\`${r}\``))).toEqual([]);
  });
});

describe('docs/operator.md', () => {
  const operator = doc('operator.md');

  it('documents every environment variable config.ts reads', () => {
    const source = readFileSync(fileURLToPath(new URL('./config.ts', import.meta.url)), 'utf8');
    const variables = [...source.matchAll(/'([A-Z][A-Z_]+)'/g)].map((m) => m[1]!);
    expect(new Set(variables).size).toBeGreaterThanOrEqual(14);
    expect(variables.filter((v) => !operator.includes(`\`${v}\``))).toEqual([]);
  });
});

describe('docs/observability.md', () => {
  const observability = doc('observability.md');

  // The integration suite compares the whole reference (types, labels) with a live /metrics.
  it('lists every metric of the operator', async () => {
    const metrics = new OperatorMetrics();
    const names = (await metrics.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => n.startsWith('nexus_'));
    expect(names.length).toBeGreaterThanOrEqual(16);
    expect(names.filter((n) => !observability.includes(`| \`${n}\` |`))).toEqual([]);
  });
});
