// Default values of a NexusRuntime spec. The CRD schema publishes them as server-side defaults
// (schema.ts reads this file), and resolveSpec() applies the same values in the operator, so an
// object that reaches us without server defaulting (an older CRD, a test) still reconciles sanely.
import type { V1NetworkPolicyPeer } from '@kubernetes/client-node';
import {
  HOST_PORT_PATTERN,
  MAX_ACK_REPLICAS,
  DEFAULT_MAX_PANELS as KERNEL_MAX_PANELS,
  defaultAckReplicas,
  SHUTDOWN_DRAIN_MS as KERNEL_SHUTDOWN_DRAIN_MS,
  variables as kernel,
} from '@nexus/kernel/config-table';
import type {
  AppendFsync,
  AutoscalingSpec,
  CacheMedium,
  DisruptionSpec,
  KernelLogLevel,
  NexusRuntimeSpec,
  PodOverrides,
  ProbeTuning,
  PullPolicy,
  SecretKeyRef,
  StoreMode,
  StoreTopology,
} from './types.js';

/**
 * Resident memory of an idle workspace-kernel (Node.js, the bridge, one warm instance), in MiB:
 * the highest steady idle RSS measured by `make bench-kernel` (after 2,000 executions; see the
 * Kernel section of docs/benchmarks.md). It is the only place this number lives: the CEL budget
 * rule and the operator both read it.
 */
export const KERNEL_OVERHEAD_MB = 157;

/**
 * Working set of an idle workspace-kernel container, in MiB: what the HPA and `kubectl top` see
 * (the cgroup's usage minus its inactive file pages, as cAdvisor reports
 * container_memory_working_set_bytes). It is not the RSS above: RSS counts file-backed pages of the
 * Node binary and libraries that are shared and charged to whichever cgroup read them first, and
 * the working set counts the in-memory cache emptyDir's files instead. The scale-out warning
 * compares this figure with the HPA's scale-out point, like with like.
 *
 * Measured on the real node (docs/tuning.md, "How the idle working set is measured"): an idle
 * kernel pod's container working set was 71 MiB before use and 95 MiB after 2,000 triggers (the
 * V8 heap it keeps), rounded up.
 */
export const KERNEL_IDLE_WORKING_SET_MB = 96;

/** The default of a kernel variable that has one (@nexus/kernel/config-table). */
function kernelDefault<T>(variable: { readonly default?: T; readonly description: string }): T {
  if (variable.default === undefined) throw new Error(`no kernel default: ${variable.description}`);
  return variable.default;
}

/** The range the kernel accepts for a variable. */
const range = ({ min, max }: { readonly min: number; readonly max: number }) => ({ min, max });

export const DEFAULTS = {
  replicas: 1,
  suspend: false,
  resources: {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '1', memory: '1Gi' },
  },
  // The kernel's own defaults (@nexus/kernel/config-table, the table its configuration is read
  // with; the sandbox's come from the bridge's one table through it).
  runtime: {
    memoryLimitMB: kernelDefault(kernel.MEMORY_LIMIT_MB),
    minInstances: kernelDefault(kernel.MIN_INSTANCES),
    timeoutMs: kernelDefault(kernel.TIMEOUT_MS),
    maxHostCalls: kernelDefault(kernel.MAX_HOST_CALLS),
    maxStateMutations: kernelDefault(kernel.MAX_STATE_MUTATIONS),
    maxEvents: kernelDefault(kernel.MAX_EVENTS),
    /** EXECUTION_DEADLINE_MS when unset: the kernel's default, or timeoutMs when that is longer. */
    executionDeadlineMs: kernelDefault(kernel.EXECUTION_DEADLINE_MS),
    maxStateSize: kernel.MAX_STATE_BYTES.default,
    panelCacheSize: kernel.PANEL_CACHE_MAX_BYTES.default,
  },
  cache: { medium: 'Memory' as CacheMedium, sizeLimit: kernel.CACHE_MAX_BYTES.default },
  autoscaling: {
    enabled: true,
    minReplicas: 1,
    maxReplicas: 10,
    targetMemoryUtilizationPercentage: 80,
    // Memory alone never sees a kernel saturated by CPU-bound handlers (docs/tuning.md, "CPU").
    targetCPUUtilizationPercentage: 80,
  },
  server: {
    logLevel: kernel.LOG_LEVEL.default as KernelLogLevel,
    maxBodySize: kernel.BODY_LIMIT.default,
  },
  probes: {
    liveness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    startup: { initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 },
  },
  store: {
    mode: 'Managed' as StoreMode,
    history: kernelDefault(kernel.STORE_HISTORY),
    historySize: kernel.STORE_HISTORY_BYTES.default,
    revisions: kernelDefault(kernel.PANEL_REVISIONS),
    logRing: { lines: kernelDefault(kernel.PANEL_LOG_LINES), size: kernel.PANEL_LOG_BYTES.default },
    idempotency: {
      keys: kernelDefault(kernel.IDEMPOTENCY_KEYS),
      resultSize: kernelDefault(kernel.IDEMPOTENCY_RESULT_BYTES),
      retentionSeconds: kernelDefault(kernel.IDEMPOTENCY_TTL_SECONDS),
    },
    keyPrefix: kernel.STORE_KEY_PREFIX.default,
    managed: {
      resources: {
        requests: { cpu: '100m', memory: '256Mi' },
        limits: { cpu: '1', memory: '768Mi' },
      },
      persistence: { enabled: true, size: '1Gi', retainOnDelete: false },
      maxmemory: '512Mi',
      // One Redis: a process crash loses nothing acknowledged, and the store costs one pod
      // (docs/tuning.md, "One Redis or three").
      replicas: 1,
      durability: {
        // A process crash loses nothing (the file is written before the reply); an operating
        // system crash or power loss, up to the last second. `always` loses nothing either way.
        appendfsync: 'everysec' as AppendFsync,
        ackTimeoutMs: kernelDefault(kernel.STORE_ACK_TIMEOUT_MS),
      },
      // Sentinel's own default is 30 s; this bounds how long a lost primary leaves the store without one.
      sentinel: { downAfterMilliseconds: 5000 },
    },
    external: {
      topology: kernel.STORE_TOPOLOGY.default,
      masterName: kernelDefault(kernel.STORE_SENTINEL_MASTER),
      durability: { ackTimeoutMs: kernelDefault(kernel.STORE_ACK_TIMEOUT_MS) },
    },
    embedded: { volume: { size: '1Gi', retainOnDelete: false } },
  },
  networkPolicy: { enabled: true },
} as const;

/** MAX_PANELS when spec.store.maxPanels is unset (Managed derives it from maxmemory instead). */
export const DEFAULT_MAX_PANELS = {
  Embedded: KERNEL_MAX_PANELS.embedded,
  External: KERNEL_MAX_PANELS.shared,
} as const;

/** The kernel's grace after SIGTERM: the longest an execution may last, plus the socket drain. */
export const SHUTDOWN_DRAIN_MS = KERNEL_SHUTDOWN_DRAIN_MS;
/** terminationGracePeriodSeconds lies this far above SHUTDOWN_GRACE_MS. */
export const TERMINATION_MARGIN_SECONDS = 10;

/**
 * Bounds enforced by the schema; the operator repeats the checks it relies on. Those of a kernel
 * variable are the kernel's own: what its configuration accepts.
 */
export const LIMITS = {
  memoryLimitMB: range(kernel.MEMORY_LIMIT_MB),
  maxInstances: range(kernel.MAX_INSTANCES),
  minInstances: range(kernel.MIN_INSTANCES),
  timeoutMs: range(kernel.TIMEOUT_MS),
  maxHostCalls: range(kernel.MAX_HOST_CALLS),
  maxStateMutations: range(kernel.MAX_STATE_MUTATIONS),
  maxEvents: range(kernel.MAX_EVENTS),
  replicas: { min: 0, max: 1000 },
  autoscalingReplicas: { min: 1, max: 1000 },
  utilizationPercentage: { min: 1, max: 100 },
  executionDeadlineMs: range(kernel.EXECUTION_DEADLINE_MS),
  history: range(kernel.STORE_HISTORY),
  historyBytes: range(kernel.STORE_HISTORY_BYTES),
  revisions: range(kernel.PANEL_REVISIONS),
  logLines: range(kernel.PANEL_LOG_LINES),
  logBytes: range(kernel.PANEL_LOG_BYTES),
  idempotencyKeys: range(kernel.IDEMPOTENCY_KEYS),
  idempotencyResultBytes: range(kernel.IDEMPOTENCY_RESULT_BYTES),
  idempotencySeconds: range(kernel.IDEMPOTENCY_TTL_SECONDS),
  bodyBytes: range(kernel.BODY_LIMIT),
  // The operator's own cap, within what the kernel accepts.
  maxPanels: { min: kernel.MAX_PANELS.min, max: Math.min(100_000, kernel.MAX_PANELS.max) },
  maxStateBytes: range(kernel.MAX_STATE_BYTES),
  // Redis pods of a managed store: odd, so that the Sentinels beside them have a majority.
  storeReplicas: { min: 1, max: 7 },
  ackReplicas: { min: 0, max: MAX_ACK_REPLICAS },
  // An external store's Sentinels (STORE_SENTINELS): the kernel's host:port rule; a DNS name and
  // a port, or a bracketed IPv6 address.
  sentinels: { maxItems: 16, maxLength: 253 + 2 + 6, pattern: HOST_PORT_PATTERN },
  sentinelMaster: {
    pattern: kernel.STORE_SENTINEL_MASTER.pattern,
    maxLength: kernel.STORE_SENTINEL_MASTER.maxLength,
    accepted: kernel.STORE_SENTINEL_MASTER.accepted,
  },
  ackTimeoutMs: range(kernel.STORE_ACK_TIMEOUT_MS),
  downAfterMilliseconds: { min: 1000, max: 60_000 },
  panelCacheBytes: range(kernel.PANEL_CACHE_MAX_BYTES),
  cacheBytes: range(kernel.CACHE_MAX_BYTES),
  keyPrefix: { pattern: kernel.STORE_KEY_PREFIX.pattern, maxLength: kernel.STORE_KEY_PREFIX.maxLength },
} as const;

/** The operator's configured images, used where the spec names none. */
export interface DefaultImages {
  kernel: string;
  store: string;
}

export interface ResolvedVolume {
  size: string;
  storageClassName?: string;
  retainOnDelete: boolean;
}

export interface ResolvedStore {
  mode: StoreMode;
  history: number;
  historySize: string;
  revisions: number;
  logRing: { lines: number; size: string };
  idempotency: { keys: number; resultSize: string; retentionSeconds: number };
  keyPrefix: string;
  maxPanels?: number;
  managed: {
    image: string;
    imagePullPolicy?: PullPolicy;
    resources: {
      requests: { cpu: string | number; memory: string };
      limits: { cpu: string | number; memory: string };
    };
    persistence: ResolvedVolume & { enabled: boolean };
    maxmemory: string;
    replicas: number;
    /** ackReplicas unset: 1 with replicas, else 0 (the kernel's own default for its topology). */
    durability: { appendfsync: AppendFsync; ackReplicas: number; ackTimeoutMs: number };
    sentinel: { downAfterMilliseconds: number };
  };
  external: {
    urlSecretRef?: SecretKeyRef;
    topology: StoreTopology;
    /** Topology sentinel: the Sentinels besides the URL's. */
    sentinels: string[];
    /** Unset: the kernel's default (DEFAULTS.store.external.masterName). */
    masterName?: string;
    /** ackReplicas unset: the kernel's default for the topology (1 with sentinel, else 0). */
    durability: { ackReplicas: number; ackTimeoutMs: number };
    caSecretRef?: SecretKeyRef;
  };
  embedded: { volume: ResolvedVolume };
}

export interface ResolvedSpec {
  image: string;
  imagePullPolicy?: PullPolicy;
  imagePullSecrets: { name: string }[];
  replicas: number;
  suspend: boolean;
  resources: {
    requests: { cpu: string | number; memory: string };
    limits: { cpu: string | number; memory: string };
  };
  runtime: {
    memoryLimitMB: number;
    maxInstances?: number;
    minInstances: number;
    timeoutMs: number;
    maxHostCalls: number;
    maxStateMutations: number;
    maxEvents: number;
    executionDeadlineMs: number;
    maxStateSize: string;
    panelCacheSize: string;
  };
  cache: { medium: CacheMedium; sizeLimit: string };
  autoscaling: Required<Omit<AutoscalingSpec, 'behavior'>> & Pick<AutoscalingSpec, 'behavior'>;
  disruption: DisruptionSpec;
  server: {
    logLevel: KernelLogLevel;
    maxBodySize: string;
    corsOrigins: string[];
    allowedHosts: string[];
    jwtSecretRef?: SecretKeyRef;
    allowedDomains: string[];
  };
  probes: {
    liveness: Required<ProbeTuning>;
    readiness: Required<ProbeTuning>;
    startup: Required<ProbeTuning>;
  };
  pod: PodOverrides;
  store: ResolvedStore;
  networkPolicy: { enabled: boolean; ingressFrom: V1NetworkPolicyPeer[]; egressCIDRs: string[] };
}

function resolveVolume(
  v: { size?: string; storageClassName?: string; retainOnDelete?: boolean } | undefined,
  d: { size: string; retainOnDelete: boolean },
): ResolvedVolume {
  const volume: ResolvedVolume = {
    size: v?.size ?? d.size,
    retainOnDelete: v?.retainOnDelete ?? d.retainOnDelete,
  };
  if (v?.storageClassName) volume.storageClassName = v.storageClassName;
  return volume;
}

function resolveStore(s: NexusRuntimeSpec['store'], storeImage: string): ResolvedStore {
  const d = DEFAULTS.store;
  const m = s?.managed;
  const replicas = m?.replicas ?? d.managed.replicas;
  const externalTopology = s?.external?.topology ?? d.external.topology;
  const store: ResolvedStore = {
    mode: s?.mode ?? d.mode,
    history: s?.history ?? d.history,
    historySize: s?.historySize ?? d.historySize,
    revisions: s?.revisions ?? d.revisions,
    logRing: {
      lines: s?.logRing?.lines ?? d.logRing.lines,
      size: s?.logRing?.size ?? d.logRing.size,
    },
    idempotency: {
      keys: s?.idempotency?.keys ?? d.idempotency.keys,
      resultSize: s?.idempotency?.resultSize ?? d.idempotency.resultSize,
      retentionSeconds: s?.idempotency?.retentionSeconds ?? d.idempotency.retentionSeconds,
    },
    keyPrefix: s?.keyPrefix ?? d.keyPrefix,
    managed: {
      image: m?.image || storeImage,
      resources: {
        requests: {
          cpu: m?.resources?.requests?.cpu ?? d.managed.resources.requests.cpu,
          memory: m?.resources?.requests?.memory ?? d.managed.resources.requests.memory,
        },
        limits: {
          cpu: m?.resources?.limits?.cpu ?? d.managed.resources.limits.cpu,
          memory: m?.resources?.limits?.memory ?? d.managed.resources.limits.memory,
        },
      },
      persistence: {
        ...resolveVolume(m?.persistence, d.managed.persistence),
        enabled: m?.persistence?.enabled ?? d.managed.persistence.enabled,
      },
      maxmemory: m?.maxmemory ?? d.managed.maxmemory,
      replicas,
      durability: {
        appendfsync: m?.durability?.appendfsync ?? d.managed.durability.appendfsync,
        ackReplicas:
          m?.durability?.ackReplicas ?? defaultAckReplicas(replicas > 1 ? 'sentinel' : 'standalone'),
        ackTimeoutMs: m?.durability?.ackTimeoutMs ?? d.managed.durability.ackTimeoutMs,
      },
      sentinel: {
        downAfterMilliseconds: m?.sentinel?.downAfterMilliseconds ?? d.managed.sentinel.downAfterMilliseconds,
      },
    },
    external: {
      topology: externalTopology,
      sentinels: s?.external?.sentinels ?? [],
      durability: {
        ackReplicas: s?.external?.durability?.ackReplicas ?? defaultAckReplicas(externalTopology),
        ackTimeoutMs: s?.external?.durability?.ackTimeoutMs ?? d.external.durability.ackTimeoutMs,
      },
    },
    embedded: { volume: resolveVolume(s?.embedded?.volume, d.embedded.volume) },
  };
  if (s?.maxPanels !== undefined) store.maxPanels = s.maxPanels;
  if (m?.imagePullPolicy) store.managed.imagePullPolicy = m.imagePullPolicy;
  if (s?.external?.urlSecretRef) store.external.urlSecretRef = s.external.urlSecretRef;
  if (s?.external?.masterName !== undefined) store.external.masterName = s.external.masterName;
  if (s?.external?.tls?.caSecretRef) store.external.caSecretRef = s.external.tls.caSecretRef;
  return store;
}

/** The spec with every default filled in; `images` are the operator's configured defaults. */
export function resolveSpec(spec: NexusRuntimeSpec | undefined, images: DefaultImages): ResolvedSpec {
  const s = spec ?? {};
  const d = DEFAULTS;
  const timeoutMs = s.runtime?.timeoutMs ?? d.runtime.timeoutMs;
  const resolved: ResolvedSpec = {
    image: s.image || images.kernel,
    imagePullSecrets: s.imagePullSecrets ?? [],
    replicas: s.replicas ?? d.replicas,
    suspend: s.suspend ?? d.suspend,
    resources: {
      requests: {
        cpu: s.resources?.requests?.cpu ?? d.resources.requests.cpu,
        memory: s.resources?.requests?.memory ?? d.resources.requests.memory,
      },
      limits: {
        cpu: s.resources?.limits?.cpu ?? d.resources.limits.cpu,
        memory: s.resources?.limits?.memory ?? d.resources.limits.memory,
      },
    },
    runtime: {
      memoryLimitMB: s.runtime?.memoryLimitMB ?? d.runtime.memoryLimitMB,
      minInstances: s.runtime?.minInstances ?? d.runtime.minInstances,
      timeoutMs,
      maxHostCalls: s.runtime?.maxHostCalls ?? d.runtime.maxHostCalls,
      maxStateMutations: s.runtime?.maxStateMutations ?? d.runtime.maxStateMutations,
      maxEvents: s.runtime?.maxEvents ?? d.runtime.maxEvents,
      executionDeadlineMs:
        s.runtime?.executionDeadlineMs ?? Math.max(d.runtime.executionDeadlineMs, timeoutMs),
      maxStateSize: s.runtime?.maxStateSize ?? d.runtime.maxStateSize,
      panelCacheSize: s.runtime?.panelCacheSize ?? d.runtime.panelCacheSize,
    },
    cache: {
      medium: s.cache?.medium ?? d.cache.medium,
      sizeLimit: s.cache?.sizeLimit ?? d.cache.sizeLimit,
    },
    autoscaling: {
      enabled: s.autoscaling?.enabled ?? d.autoscaling.enabled,
      minReplicas: s.autoscaling?.minReplicas ?? d.autoscaling.minReplicas,
      maxReplicas: s.autoscaling?.maxReplicas ?? d.autoscaling.maxReplicas,
      targetMemoryUtilizationPercentage:
        s.autoscaling?.targetMemoryUtilizationPercentage ?? d.autoscaling.targetMemoryUtilizationPercentage,
      targetCPUUtilizationPercentage:
        s.autoscaling?.targetCPUUtilizationPercentage ?? d.autoscaling.targetCPUUtilizationPercentage,
    },
    disruption: { ...s.disruption },
    server: {
      logLevel: s.server?.logLevel ?? d.server.logLevel,
      maxBodySize: s.server?.maxBodySize ?? d.server.maxBodySize,
      corsOrigins: s.server?.corsOrigins ?? [],
      allowedHosts: s.server?.allowedHosts ?? [],
      allowedDomains: s.server?.extensions?.http?.allowedDomains ?? [],
    },
    probes: {
      liveness: { ...d.probes.liveness, ...s.probes?.liveness },
      readiness: { ...d.probes.readiness, ...s.probes?.readiness },
      startup: { ...d.probes.startup, ...s.probes?.startup },
    },
    pod: s.pod ?? {},
    store: resolveStore(s.store, images.store),
    networkPolicy: {
      enabled: s.networkPolicy?.enabled ?? d.networkPolicy.enabled,
      ingressFrom: s.networkPolicy?.ingressFrom ?? [],
      egressCIDRs: s.networkPolicy?.egressCIDRs ?? [],
    },
  };
  if (s.imagePullPolicy) resolved.imagePullPolicy = s.imagePullPolicy;
  if (s.runtime?.maxInstances !== undefined) resolved.runtime.maxInstances = s.runtime.maxInstances;
  if (s.autoscaling?.behavior) resolved.autoscaling.behavior = s.autoscaling.behavior;
  if (s.server?.auth?.jwtSecretRef) resolved.server.jwtSecretRef = s.server.auth.jwtSecretRef;
  return resolved;
}
