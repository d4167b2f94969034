// The contract between the operator and the kernel: the environment the operator builds (the
// ConfigMap and the pod's own variables, Secrets resolved) is read by the kernel's own
// configuration parser, for every sample, the all-defaults spec, each store mode and every bound
// of the schema. A misspelt variable, or a value the kernel refuses or reads otherwise than the
// operator meant, fails here instead of a kernel silently falling back to a default, or
// crash-looping on its configuration.
import { readdirSync, readFileSync } from 'node:fs';
import type { V1EnvVarSource, V1Secret } from '@kubernetes/client-node';
import { LOG_LEVELS, STORE_TOPOLOGIES, VARIABLE_NAMES } from '@nexus/kernel/config-table';
import yaml from 'js-yaml';
import { ConfigError, type KernelConfig, loadConfig } from '../../kernel/src/config.js';
import { childName } from './api/children.js';
import {
  KERNEL_IDLE_WORKING_SET_MB,
  KERNEL_OVERHEAD_MB,
  LIMITS,
  resolveSpec,
  type ResolvedSpec,
} from './api/defaults.js';
import { parseQuantity } from './api/quantity.js';
import { KernelLogLevel, StoreTopology, type NexusRuntimeSpec } from './api/types.js';
import { buildConfigMap } from './builders/configmap.js';
import { buildDeployment } from './builders/deployment.js';
import { shutdownGraceMs, terminationGracePeriodSeconds } from './builders/grace.js';
import {
  CACHE_DIR,
  PERSIST_DIR,
  PORTS,
  STORE_CA_MOUNT,
  singleKernel,
  type RuntimePlan,
} from './builders/plan.js';
import { sentinelAddresses } from './builders/store/replication.js';
import { buildStoreSecret } from './builders/store/secret.js';
import { evaluateBudget } from './policies/budget.js';
import { kernelRefusal } from './policies/kernel-values.js';
import { evaluateStoreBudget } from './policies/store-budget.js';
import { IMAGES, plan as fixturePlan, storePlan } from './testing/fixtures.js';

const POD_NAME = 'demo-7d9f8c6b5-x2x4q';
const EXTERNAL_URL = 'rediss://:s3cret@redis.example.com:6380/0';
const JWT = 'a-secret-of-thirty-two-bytes-or-more';
/** The host:port EXTERNAL_URL names: with topology sentinel, the first Sentinel. */
const EXTERNAL_URL_NODE = 'redis.example.com:6380';

/** `host:port` or `[v6]:port` as the kernel's Sentinel list holds it. */
function hostPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(':');
  return { host: node.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(node.slice(colon + 1)) };
}

/** The spec of every NexusRuntime in config/samples. */
function samples(): [string, NexusRuntimeSpec][] {
  const dir = new URL('../../config/samples/', import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      yaml
        .loadAll(readFileSync(new URL(file, dir), 'utf8'))
        .filter(
          (doc): doc is { kind: string; spec?: NexusRuntimeSpec } =>
            (doc as { kind?: string })?.kind === 'NexusRuntime',
        )
        .map((doc): [string, NexusRuntimeSpec] => [file, doc.spec ?? {}]),
    );
}

/** The plan the reconciler settles on for a spec whose budgets fit and whose Secrets are in order. */
function planOf(spec: NexusRuntimeSpec, panels?: RuntimePlan['panels']): RuntimePlan {
  const resolved = resolveSpec(spec, IMAGES);
  const budget = evaluateBudget(resolved, {
    overheadMB: KERNEL_OVERHEAD_MB,
    idleWorkingSetMB: KERNEL_IDLE_WORKING_SET_MB,
  });
  const storeBudget = evaluateStoreBudget(resolved);
  if (!budget.ok) throw new Error(`the memory budget refuses the spec: ${budget.failure.message}`);
  if (!storeBudget.ok) throw new Error(`the store budget refuses the spec: ${storeBudget.failure.message}`);
  // A sample whose panels outgrow its store would roll out Degraded.
  if (storeBudget.warning) throw new Error(`the store budget warns: ${storeBudget.warning.message}`);
  const refusal = kernelRefusal(resolved);
  if (refusal) throw new Error(`the operator refuses the spec: ${refusal.message}`);
  return {
    name: 'demo',
    namespace: 'team-a',
    uid: 'uid-demo',
    spec: resolved,
    maxInstances: budget.maxInstances,
    maxPanels: storeBudget.maxPanels,
    store: storePlan(resolved),
    panels: panels ?? (resolved.store.mode === 'Embedded' ? 'embedded' : 'none'),
  };
}

/** What the kubelet would set a variable to: a field of the pod, or a key of a Secret. */
function resolve(source: V1EnvVarSource, plan: RuntimePlan): string {
  if (source.fieldRef?.fieldPath === 'metadata.name') return POD_NAME;
  const ref = source.secretKeyRef;
  if (ref && plan.store.mode === 'Managed' && ref.name === childName('storeSecret', plan.name)) {
    const secret: V1Secret = buildStoreSecret(plan, plan.store.credentials);
    const value = secret.stringData?.[ref.key];
    if (value !== undefined) return value;
  }
  if (ref && plan.store.mode === 'External' && ref.name === plan.store.urlSecretRef.name) return EXTERNAL_URL;
  if (ref && ref.name === plan.spec.server.jwtSecretRef?.name) return JWT;
  throw new Error(`no value for ${JSON.stringify(source)}`);
}

/** The kernel container's environment as the kubelet gives it: the ConfigMap, then its own variables. */
function environment(plan: RuntimePlan): Record<string, string> {
  const configMap = buildConfigMap(plan);
  const pod = buildDeployment(plan, 'hash').spec!.template.spec!;
  const [container] = pod.containers;
  expect(container!.envFrom).toEqual([{ configMapRef: { name: configMap.metadata!.name } }]);
  const env: Record<string, string> = { ...configMap.data };
  for (const variable of container!.env ?? []) {
    env[variable.name] = variable.value ?? resolve(variable.valueFrom!, plan);
  }
  return env;
}

function parse(env: Record<string, string>): KernelConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    // The kernel's own words: the variable, the value and what it accepts.
    if (error instanceof ConfigError) throw new Error(`the kernel refuses: ${error.problems.join('; ')}`);
    throw error;
  }
}

const bytes = (quantity: string) => Math.floor(parseQuantity(quantity)!);

/** What the operator means the kernel to run with, from the plan. */
function intended(plan: RuntimePlan): object {
  const spec: ResolvedSpec = plan.spec;
  const { runtime } = spec;
  const storeSpec = spec.store;
  const shared = plan.store.mode !== 'Embedded';
  const replicated = plan.store.mode === 'Managed' && storeSpec.managed.replicas > 1;
  const managedUrl =
    plan.store.mode === 'Managed'
      ? replicated
        ? plan.store.credentials.sentinelUrl
        : plan.store.credentials.url
      : undefined;
  const externalSentinel = plan.store.mode === 'External' && plan.store.topology === 'sentinel';
  // Managed: the Sentinels' Service first (STORE_URL), then each pod's Sentinel. External: the
  // URL's Sentinel, then the spec's.
  const sentinelNodes = replicated
    ? [`demo-store-sentinel.team-a.svc:${PORTS.sentinel}`, ...sentinelAddresses(plan)]
    : externalSentinel
      ? [EXTERNAL_URL_NODE, ...storeSpec.external.sentinels]
      : [];
  const sentinel = {
    sentinel: {
      masterName: externalSentinel ? (storeSpec.external.masterName ?? 'nexus') : 'nexus',
      nodes: sentinelNodes.map(hostPort),
    },
  };
  return {
    host: '0.0.0.0',
    httpPort: PORTS.http,
    wsPort: PORTS.ws,
    logLevel: spec.server.logLevel,
    runtime: {
      memoryLimitMb: runtime.memoryLimitMB,
      maxInstances: plan.maxInstances,
      minInstances: Math.min(runtime.minInstances, plan.maxInstances),
      timeoutMs: runtime.timeoutMs,
      maxHostCalls: runtime.maxHostCalls,
      maxStateMutations: runtime.maxStateMutations,
      maxEvents: runtime.maxEvents,
    },
    executionDeadlineMs: runtime.executionDeadlineMs,
    shutdownGraceMs: shutdownGraceMs(spec),
    maxStateBytes: bytes(runtime.maxStateSize),
    bodyLimitBytes: bytes(spec.server.maxBodySize),
    panelRetention: {
      revisions: storeSpec.revisions,
      logLines: storeSpec.logRing.lines,
      logBytes: bytes(storeSpec.logRing.size),
    },
    panelCacheMaxBytes: bytes(runtime.panelCacheSize),
    maxPanels: plan.maxPanels,
    cacheDir: CACHE_DIR,
    cacheMaxBytes: bytes(spec.cache.sizeLimit),
    ...(singleKernel(plan) ? { persistDir: PERSIST_DIR } : {}),
    corsOrigins: spec.server.corsOrigins,
    instanceName: POD_NAME,
    store: shared
      ? {
          kind: 'redis',
          url: managedUrl ?? EXTERNAL_URL,
          topology:
            plan.store.mode === 'External' ? plan.store.topology : replicated ? 'sentinel' : 'standalone',
          ...(replicated || externalSentinel ? sentinel : {}),
          ...(replicated
            ? {
                ack: {
                  replicas: storeSpec.managed.durability.ackReplicas,
                  timeoutMs: storeSpec.managed.durability.ackTimeoutMs,
                },
              }
            : plan.store.mode === 'External'
              ? {
                  ack: {
                    replicas: storeSpec.external.durability.ackReplicas,
                    timeoutMs: storeSpec.external.durability.ackTimeoutMs,
                  },
                }
              : { ack: expect.objectContaining({ replicas: 0 }) }),
          keyPrefix: storeSpec.keyPrefix,
          historyLength: storeSpec.history,
          historyBytes: bytes(storeSpec.historySize),
          ...(plan.store.mode === 'External' && plan.store.caSecretRef
            ? { tlsCaFile: `${STORE_CA_MOUNT}/ca.crt` }
            : {}),
        }
      : {
          kind: 'embedded',
          historyLength: storeSpec.history,
          historyBytes: bytes(storeSpec.historySize),
        },
  };
}

/** Names the kernel does not read: a misspelt variable, or one the kernel no longer has. */
const unread = (env: Record<string, string>) =>
  Object.keys(env).filter((name) => !(VARIABLE_NAMES as readonly string[]).includes(name));

/** Builds the kernel's environment for a plan, and checks the kernel reads it as the operator meant. */
function checkContract(plan: RuntimePlan): KernelConfig {
  const env = environment(plan);
  expect(unread(env)).toEqual([]);
  const config = parse(env);
  expect(config).toMatchObject(intended(plan));
  expect(config.httpExtension.allowedDomains).toHaveLength(plan.spec.server.allowedDomains.length);
  expect(config.auth?.secret).toBe(plan.spec.server.jwtSecretRef ? JWT : undefined);
  // The kubelet waits for the kernel's grace before it kills the container.
  expect(terminationGracePeriodSeconds(plan.spec) * 1000).toBeGreaterThan(config.shutdownGraceMs);
  return config;
}

describe('the environment the operator builds, read by the kernel', () => {
  it('is checked: a misspelt or an out-of-range variable fails', () => {
    const env = environment(planOf({}));
    expect(unread({ ...env, STORE_HISTORIES: '10' })).toEqual(['STORE_HISTORIES']);
    expect(() => parse({ ...env, STORE_HISTORY: '100001' })).toThrow(
      'STORE_HISTORY="100001" is invalid: expected an integer from 0 to 100000',
    );
  });

  it.each(samples())('%s', (_file, spec) => {
    checkContract(planOf(spec));
  });

  it('the all-defaults spec', () => {
    checkContract(planOf({}));
  });

  it.each<[string, NexusRuntimeSpec, RuntimePlan['panels']?]>([
    ['an embedded store', { store: { mode: 'Embedded' } }],
    [
      'an external Redis Cluster over TLS, with a key prefix and no history',
      {
        store: {
          mode: 'External',
          keyPrefix: 'team-a:',
          history: 0,
          external: {
            urlSecretRef: { name: 'redis', key: 'url' },
            topology: 'cluster',
            tls: { caSecretRef: { name: 'ca', key: 'ca.pem' } },
          },
        },
      },
    ],
    [
      'an external Sentinel store with more Sentinels, a master name and its own acknowledgement',
      {
        store: {
          mode: 'External',
          external: {
            urlSecretRef: { name: 'redis', key: 'url' },
            topology: 'sentinel',
            sentinels: ['sentinel-b.example.com:26379', '10.0.0.7:26380', '[fd00::7]:26379'],
            masterName: 'panels.primary',
            durability: { ackReplicas: 2, ackTimeoutMs: 750 },
            tls: { caSecretRef: { name: 'ca', key: 'ca.pem' } },
          },
        },
      },
    ],
    [
      'an external Sentinel store that acknowledges without a replica',
      {
        store: {
          mode: 'External',
          external: {
            urlSecretRef: { name: 'redis', key: 'url' },
            topology: 'sentinel',
            durability: { ackReplicas: 0 },
          },
        },
      },
    ],
    [
      'an external standalone Redis whose replicas acknowledge',
      {
        store: {
          mode: 'External',
          external: { urlSecretRef: { name: 'redis', key: 'url' }, durability: { ackReplicas: 1 } },
        },
      },
    ],
    ['a managed store importing an embedded volume', {}, 'importing'],
    [
      'a replicated managed store of five pods that waits for two replicas, its files synced on every write',
      {
        store: {
          managed: {
            replicas: 5,
            durability: { appendfsync: 'always', ackReplicas: 2, ackTimeoutMs: 500 },
            sentinel: { downAfterMilliseconds: 2000 },
          },
        },
      },
    ],
    [
      'a replicated managed store that acknowledges without a replica',
      { store: { managed: { replicas: 3, durability: { ackReplicas: 0 } } } },
    ],
    [
      'authentication, CORS and the http extension',
      {
        server: {
          logLevel: 'debug',
          corsOrigins: ['https://a.example', 'https://b.example'],
          auth: { jwtSecretRef: { name: 'jwt', key: 'secret' } },
          extensions: { http: { allowedDomains: ['api.example.com', '*.example.org', '10.0.0.0/8:5432'] } },
        },
      },
    ],
    // (A rest parameter: jest would take a third named one for its `done` callback.)
  ])('%s', (...[, spec, panels]) => {
    checkContract(planOf(spec, panels));
  });

  it.each(Object.values(KernelLogLevel))('log level %s', (logLevel) => {
    expect(LOG_LEVELS).toContain(logLevel);
    checkContract(planOf({ server: { logLevel } }));
  });

  it.each(Object.values(StoreTopology))('store topology %s', (topology) => {
    expect(STORE_TOPOLOGIES).toContain(topology);
    checkContract(
      planOf({
        store: { mode: 'External', external: { urlSecretRef: { name: 'redis', key: 'url' }, topology } },
      }),
    );
  });
});

describe('every bound of the schema, read by the kernel', () => {
  // The extremes the schema admits; the budgets would ask for pods this large, so the plans are
  // built directly (the fixture plan) with the pool size the bound allows.
  const KiB = 1024;
  const cases: [string, NexusRuntimeSpec, number?][] = [];
  for (const end of ['min', 'max'] as const) {
    const runtime = (
      name:
        'memoryLimitMB' | 'minInstances' | 'timeoutMs' | 'maxHostCalls' | 'maxStateMutations' | 'maxEvents',
    ) => cases.push([`runtime.${name} at its ${end}`, { runtime: { [name]: LIMITS[name][end] } }]);
    runtime('memoryLimitMB');
    runtime('minInstances');
    runtime('timeoutMs');
    runtime('maxHostCalls');
    runtime('maxStateMutations');
    runtime('maxEvents');
    cases.push([
      `runtime.executionDeadlineMs at its ${end}`,
      { runtime: { executionDeadlineMs: LIMITS.executionDeadlineMs[end], timeoutMs: LIMITS.timeoutMs.min } },
    ]);
    cases.push([
      `runtime.maxInstances at its ${end}`,
      { runtime: { maxInstances: LIMITS.maxInstances[end], minInstances: LIMITS.minInstances.min } },
      LIMITS.maxInstances[end],
    ]);
    cases.push([
      `runtime.maxStateSize at its ${end}`,
      { runtime: { maxStateSize: `${LIMITS.maxStateBytes[end] / KiB}Ki` } },
    ]);
    cases.push([
      `runtime.panelCacheSize at its ${end}`,
      { runtime: { panelCacheSize: `${LIMITS.panelCacheBytes[end] / KiB}Ki` } },
    ]);
    cases.push([
      `cache.sizeLimit at its ${end}`,
      { cache: { sizeLimit: `${LIMITS.cacheBytes[end] / KiB}Ki` } },
    ]);
    cases.push([`store.history at its ${end}`, { store: { history: LIMITS.history[end] } }]);
    cases.push([
      `store.historySize at its ${end}`,
      { store: { historySize: `${LIMITS.historyBytes[end] / KiB}Ki` } },
    ]);
    cases.push([`store.revisions at its ${end}`, { store: { revisions: LIMITS.revisions[end] } }]);
    cases.push([
      `store.logRing.lines at its ${end}`,
      { store: { logRing: { lines: LIMITS.logLines[end] } } },
    ]);
    cases.push([
      `store.logRing.size at its ${end}`,
      { store: { logRing: { size: `${LIMITS.logBytes[end] / KiB}Ki` } } },
    ]);
    cases.push([
      `server.maxBodySize at its ${end}`,
      { server: { maxBodySize: `${LIMITS.bodyBytes[end] / KiB}Ki` } },
    ]);
  }

  const sentinelStore = (external: NonNullable<NexusRuntimeSpec['store']>['external']): NexusRuntimeSpec => ({
    store: {
      mode: 'External',
      external: { urlSecretRef: { name: 'redis', key: 'url' }, topology: 'sentinel', ...external },
    },
  });
  for (const end of ['min', 'max'] as const) {
    cases.push([
      `store.external.durability at its ${end}`,
      sentinelStore({
        durability: { ackReplicas: LIMITS.ackReplicas[end], ackTimeoutMs: LIMITS.ackTimeoutMs[end] },
      }),
    ]);
  }
  cases.push([
    `${LIMITS.sentinels.maxItems} Sentinels besides the URL's, and a master name of ${LIMITS.sentinelMaster.maxLength} characters`,
    sentinelStore({
      sentinels: Array.from(
        { length: LIMITS.sentinels.maxItems },
        (_, i) => `sentinel-${i}.example.com:${26379 + i}`,
      ),
      masterName: 'm'.repeat(LIMITS.sentinelMaster.maxLength),
    }),
  ]);
  cases.push([
    `a key prefix of ${LIMITS.keyPrefix.maxLength} characters`,
    { store: { keyPrefix: 'k'.repeat(LIMITS.keyPrefix.maxLength - 1) + ':' } },
  ]);

  it.each(cases)('%s', (...[, spec, maxInstances]) => {
    checkContract(fixturePlan(spec, maxInstances));
  });

  it.each(['min', 'max'] as const)('store.maxPanels at its %s', (end) => {
    const plan = fixturePlan({ store: { maxPanels: LIMITS.maxPanels[end] } });
    checkContract({ ...plan, maxPanels: LIMITS.maxPanels[end] });
  });
});
