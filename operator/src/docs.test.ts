// The documentation lists what the code defines: every field, reason, variable and metric.
import { readdirSync, readFileSync } from 'node:fs';
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

// The commands the documents tell a user to type exist: chart values the schema accepts, and make
// targets the Makefile defines. Both drifted once (a `--set monitoring.enabled` the schema refused).
const repoFile = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

const documents = (): Array<[string, string]> => [
  ['README.md', repoFile('README.md')],
  ...readdirSync(fileURLToPath(new URL('../../docs/', import.meta.url)))
    .filter((name) => name.endsWith('.md'))
    .map((name): [string, string] => [`docs/${name}`, doc(name)]),
];

/** The value paths of every `--set a.b=x,c.d=y` in a text. */
function helmSetPaths(text: string): string[] {
  return [...text.matchAll(/--set(?:-string)?[ =]([^\s`'"]+)/g)].flatMap((m) =>
    m[1]!.split(',').map((assignment) => assignment.split('=')[0]!),
  );
}

/** Whether a dotted path names a property in a JSON schema (through nested `properties`). */
function schemaHasPath(schema: JSONSchema, path: string): boolean {
  let node: JSONSchema | undefined = schema;
  for (const key of path.split('.')) {
    node = node?.properties?.[key];
    if (node === undefined) return false;
  }
  return true;
}

/** The `make X` a document asks for: in inline code spans and on lines of fenced blocks. */
function makeTargets(markdown: string): string[] {
  const inline = [...markdown.matchAll(/`make ([a-z][\w-]*)/g)].map((m) => m[1]!);
  const fenced = [...markdown.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].flatMap((block) =>
    [...block[1]!.matchAll(/^\s*(?:\$\s*)?make ([a-z][\w-]*)/gm)].map((m) => m[1]!),
  );
  return [...inline, ...fenced];
}

/** The targets the Makefile and the .mk files it includes define. */
function definedTargets(): Set<string> {
  const makefile = repoFile('Makefile');
  const included = [...makefile.matchAll(/^-?include\s+(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
  const texts = [makefile, ...included.map(repoFile)];
  return new Set(
    texts.flatMap((text) =>
      [...text.matchAll(/^([a-zA-Z][\w.-]*(?:[ \t]+[a-zA-Z][\w.-]*)*)[ \t]*:(?!=)/gm)].flatMap((m) =>
        m[1]!.split(/\s+/),
      ),
    ),
  );
}

describe('documented commands', () => {
  const values = JSON.parse(repoFile('charts/nexus-operator/values.schema.json')) as JSONSchema;

  it('finds what it checks', () => {
    expect(helmSetPaths('helm install x --set a.b=true,c=1 --set-string d.e=f')).toEqual(['a.b', 'c', 'd.e']);
    expect(makeTargets('run `make dev`, make sure\n```sh\nmake test   # all\n```')).toEqual(['dev', 'test']);
    expect(schemaHasPath(values, 'monitoring.enabled')).toBe(false);
  });

  it('every helm --set in README.md and docs/ names a value the chart schema accepts', () => {
    const paths = documents().flatMap(([name, text]) => helmSetPaths(text).map((p) => `${name}: ${p}`));
    expect(paths.length).toBeGreaterThanOrEqual(4);
    expect(paths.filter((entry) => !schemaHasPath(values, entry.split(': ')[1]!))).toEqual([]);
  });

  it('every make target named in README.md and docs/ is defined', () => {
    const targets = definedTargets();
    expect(targets.has('help')).toBe(true);
    const named = documents().flatMap(([name, text]) => makeTargets(text).map((t) => `${name}: ${t}`));
    expect(named.length).toBeGreaterThanOrEqual(20);
    expect(named.filter((entry) => !targets.has(entry.split(': ')[1]!))).toEqual([]);
  });
});
