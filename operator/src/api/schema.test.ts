// The CRD schema and the TypeScript types describe the same object. `Full<T>` makes every field of
// a type required, so the fixtures below fail to compile when types.ts gains a field, and the walk
// fails when the schema and the fixtures disagree in either direction.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { renderCrdYaml } from './crd-yaml.js';
import { EMBEDDED_PATHS, openAPIV3Schema, type JSONSchema } from './schema.js';
import type { NexusRuntimeSpec, NexusRuntimeStatus } from './types.js';

/** Fields typed by client-node, whose schema is Kubernetes' own (checked partially below). */
type Opaque = 'behavior' | 'affinity' | 'tolerations' | 'topologySpreadConstraints' | 'ingressFrom';
type Full<T> = T extends readonly (infer U)[]
  ? Full<U>[]
  : T extends object
    ? { [K in keyof T]-?: K extends Opaque ? NonNullable<T[K]> : Full<NonNullable<T[K]>> }
    : T;

const fullSpec: Full<NexusRuntimeSpec> = {
  image: 'img',
  imagePullPolicy: 'IfNotPresent',
  imagePullSecrets: [{ name: 'reg' }],
  replicas: 2,
  suspend: false,
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: 1, memory: '1Gi' } },
  runtime: {
    memoryLimitMB: 32,
    maxInstances: 4,
    minInstances: 1,
    timeoutMs: 5000,
    maxHostCalls: 10,
    maxStateMutations: 10,
    maxEvents: 10,
    executionDeadlineMs: 30000,
    maxStateSize: '1Mi',
    panelCacheSize: '64Mi',
  },
  cache: { medium: 'Memory', sizeLimit: '128Mi' },
  autoscaling: {
    enabled: true,
    minReplicas: 1,
    maxReplicas: 3,
    targetMemoryUtilizationPercentage: 80,
    targetCPUUtilizationPercentage: 70,
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
  disruption: { minAvailable: 1, maxUnavailable: '50%' },
  server: {
    logLevel: 'info',
    maxBodySize: '1Mi',
    corsOrigins: ['https://a.example'],
    allowedHosts: ['nexus.example.com'],
    auth: { jwtSecretRef: { name: 's', key: 'k' } },
    extensions: { http: { allowedDomains: ['api.example.com'] } },
  },
  probes: {
    liveness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
    startup: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
  },
  pod: {
    nodeSelector: { disk: 'ssd' },
    tolerations: [{ key: 'k', operator: 'Exists' }],
    affinity: { nodeAffinity: {} },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
    priorityClassName: 'high',
    labels: { team: 'x' },
    annotations: { note: 'y' },
  },
  store: {
    mode: 'Managed',
    history: 256,
    historySize: '1Mi',
    revisions: 5,
    logRing: { lines: 200, size: '256Ki' },
    idempotency: { keys: 256, resultSize: '1Ki', retentionSeconds: 3600 },
    keyPrefix: 'nexus:',
    maxPanels: 100,
    managed: {
      image: 'redis:7',
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: 1, memory: '768Mi' } },
      persistence: { enabled: true, size: '1Gi', storageClassName: 'fast', retainOnDelete: false },
      maxmemory: '512Mi',
      replicas: 3,
      durability: { appendfsync: 'always', ackReplicas: 1, ackTimeoutMs: 2000 },
      sentinel: { downAfterMilliseconds: 5000 },
    },
    external: {
      urlSecretRef: { name: 'r', key: 'url' },
      topology: 'sentinel',
      sentinels: ['sentinel-b.example:26379'],
      masterName: 'nexus',
      durability: { ackReplicas: 1, ackTimeoutMs: 2000 },
      tls: { caSecretRef: { name: 'ca', key: 'ca.crt' } },
    },
    embedded: { volume: { size: '1Gi', storageClassName: 'fast', retainOnDelete: true } },
  },
  networkPolicy: {
    enabled: true,
    ingressFrom: [{ podSelector: { matchLabels: { app: 'gateway' } } }],
    egressCIDRs: ['203.0.113.0/24'],
  },
};

const fullStatus: Full<NexusRuntimeStatus> = {
  observedGeneration: 1,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Available',
      message: 'ok',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 1,
    },
  ],
  replicas: 1,
  desiredReplicas: 1,
  readyReplicas: 1,
  updatedReplicas: 1,
  availableReplicas: 1,
  selector: 'a=b',
  configHash: 'h',
  memoryBudget: {
    limitMB: 1,
    requestMB: 1,
    overheadMB: 1,
    cacheMB: 1,
    panelCacheMB: 64,
    instanceMB: 1,
    maxInstances: 1,
    maxInstancesDerived: true,
    requiredMB: 1,
    headroomMB: 0,
    hpaScaleOutMB: 1,
    idleWorkingSetMB: 1,
    fits: true,
    store: {
      maxPanels: 512,
      maxPanelsDerived: true,
      maxStateBytes: 1048576,
      perPanelBytes: 10866704,
      maxmemoryMB: 512,
      limitMB: 768,
      requiredMB: 640,
      worstCaseMB: 512,
      fits: true,
      pods: 3,
      totalMemoryLimitMB: 2496,
      totalCPULimitMillicores: 3300,
    },
  },
  endpoints: { http: 'http://x', ws: 'ws://x' },
  image: 'img',
  store: {
    mode: 'Managed',
    endpoint: 'demo-store.ns.svc:6379',
    topology: 'standalone',
    secretName: 'demo-store',
    volumeClaimName: 'demo-panels',
    replicas: 3,
    primary: 'demo-store-0',
    replicasInSync: 2,
    replication: 'primary demo-store-0, 2 of 2 replicas in sync',
  },
};

function typeMatches(schema: JSONSchema, value: unknown): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    default:
      return false;
  }
}

/** Problems found walking `value` against `schema`; with `complete`, schema fields the value lacks count too. */
function disagreements(schema: JSONSchema, value: unknown, path: string, complete: boolean): string[] {
  if (!typeMatches(schema, value))
    return [`${path}: ${JSON.stringify(value)} is not ${schema.type ?? 'int-or-string'}`];
  if (schema['x-kubernetes-preserve-unknown-fields']) return [];
  // Kubernetes' own schemas are far larger than any fixture: only what the value has is checked.
  if ((EMBEDDED_PATHS as readonly string[]).includes(path)) complete = false;
  if (Array.isArray(value)) {
    return value.flatMap((item, i) =>
      schema.items ? disagreements(schema.items, item, `${path}[${i}]`, complete) : [],
    );
  }
  if (schema.type !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (schema.additionalProperties) {
    return Object.entries(record).flatMap(([k, v]) =>
      disagreements(schema.additionalProperties!, v, `${path}.${k}`, complete),
    );
  }
  const properties = schema.properties ?? {};
  const problems = Object.entries(record).flatMap(([k, v]) =>
    properties[k]
      ? disagreements(properties[k], v, `${path}.${k}`, complete)
      : [`${path}.${k}: not in the schema`],
  );
  if (complete) {
    for (const k of Object.keys(properties))
      if (!(k in record)) problems.push(`${path}.${k}: not in the types`);
  }
  return problems;
}

const specSchema = openAPIV3Schema.properties!.spec!;
const statusSchema = openAPIV3Schema.properties!.status!;

describe('the CRD schema and the TypeScript types', () => {
  it('describe the same spec', () => {
    expect(disagreements(specSchema, fullSpec, 'spec', true)).toEqual([]);
  });

  it('describe the same status', () => {
    expect(disagreements(statusSchema, fullStatus, 'status', true)).toEqual([]);
  });

  it('would notice a field on one side only', () => {
    expect(disagreements(specSchema, { ...fullSpec, extra: 1 }, 'spec', true)).toEqual([
      'spec.extra: not in the schema',
    ]);
    const { image: _image, ...withoutImage } = fullSpec;
    expect(disagreements(specSchema, withoutImage, 'spec', true)).toEqual(['spec.image: not in the types']);
    expect(disagreements(specSchema, { ...fullSpec, replicas: 'two' }, 'spec', true)).toEqual([
      'spec.replicas: "two" is not integer',
    ]);
  });

  it("validate spec.server.allowedHosts as the kernel's ALLOWED_HOSTS reads it", () => {
    const items = specSchema.properties!.server!.properties!.allowedHosts!.items!;
    const pattern = new RegExp(items.pattern!);
    for (const host of ['nexus.example.com', '*.apps.example.org', '*', 'nexus', 'a-1.b'])
      expect([host, pattern.test(host)]).toEqual([host, true]);
    for (const host of ['Nexus.example.com', 'nexus.example.com:443', '*.*', 'a..b', '-a.b', 'http://x', ''])
      expect([host, pattern.test(host)]).toEqual([host, false]);
  });

  it('give every field a description (kubectl explain teaches the user)', () => {
    const undocumented: string[] = [];
    const walk = (schema: JSONSchema, path: string) => {
      if (!schema.description && path !== 'metadata') undocumented.push(path);
      for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, path ? `${path}.${k}` : k);
      if (schema.items?.properties)
        for (const [k, v] of Object.entries(schema.items.properties)) walk(v, `${path}[].${k}`);
    };
    walk(openAPIV3Schema, '');
    expect(undocumented).toEqual([]);
  });
});

describe('crds/ and config/samples', () => {
  const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

  it('the committed CRD is the generated one (run `make generate-crd`)', () => {
    expect(readFileSync(repo('crds/nexus.dev_nexusruntimes.yaml'), 'utf8')).toBe(renderCrdYaml());
  });

  it.each([
    'config/samples/nexusruntime.yaml',
    'config/samples/nexusruntime-tuned.yaml',
    'config/samples/nexusruntime-replicated-store.yaml',
  ])('%s matches the schema', (path) => {
    const sample = yaml.load(readFileSync(repo(path), 'utf8')) as { kind: string; spec: unknown };
    expect(sample.kind).toBe('NexusRuntime');
    expect(disagreements(specSchema, sample.spec, 'spec', false)).toEqual([]);
  });
});
