// The NexusRuntime API as TypeScript types. The CRD schema (schema.ts) describes the same shape;
// schema.test.ts fails when the two disagree.
import type {
  V1Affinity,
  V1NetworkPolicyPeer,
  V1Toleration,
  V1TopologySpreadConstraint,
  V2HorizontalPodAutoscalerBehavior,
} from '@kubernetes/client-node';
import type { Condition } from './conditions.js';

export const CacheMedium = { Memory: 'Memory', Disk: 'Disk' } as const;
export type CacheMedium = (typeof CacheMedium)[keyof typeof CacheMedium];

export const KernelLogLevel = {
  Trace: 'trace',
  Debug: 'debug',
  Info: 'info',
  Warn: 'warn',
  Error: 'error',
  Fatal: 'fatal',
} as const;
export type KernelLogLevel = (typeof KernelLogLevel)[keyof typeof KernelLogLevel];

export const PullPolicy = { Always: 'Always', IfNotPresent: 'IfNotPresent', Never: 'Never' } as const;
export type PullPolicy = (typeof PullPolicy)[keyof typeof PullPolicy];

/** Where the panels live: a store the operator runs, one the user runs, or the kernel's own files. */
export const StoreMode = { Managed: 'Managed', External: 'External', Embedded: 'Embedded' } as const;
export type StoreMode = (typeof StoreMode)[keyof typeof StoreMode];

export const StoreTopology = { Standalone: 'standalone', Cluster: 'cluster', Sentinel: 'sentinel' } as const;

/** When each managed Redis syncs its append-only file to disk. */
export const AppendFsync = { EverySec: 'everysec', Always: 'always' } as const;
export type AppendFsync = (typeof AppendFsync)[keyof typeof AppendFsync];
export type StoreTopology = (typeof StoreTopology)[keyof typeof StoreTopology];

/** A Kubernetes quantity: `256Mi`, `1Gi`, `500m`, or a plain number of cores. */
export type Quantity = string;
export type IntOrPercent = number | string;

export interface ResourceAmounts {
  cpu?: Quantity | number;
  memory?: Quantity;
}

export interface ResourcesSpec {
  requests?: ResourceAmounts;
  limits?: ResourceAmounts;
}

export interface RuntimeTuning {
  memoryLimitMB?: number;
  maxInstances?: number;
  minInstances?: number;
  timeoutMs?: number;
  maxHostCalls?: number;
  maxStateMutations?: number;
  maxEvents?: number;
  executionDeadlineMs?: number;
  maxStateSize?: Quantity;
  panelCacheSize?: Quantity;
}

export interface CacheSpec {
  medium?: CacheMedium;
  sizeLimit?: Quantity;
}

export interface AutoscalingSpec {
  enabled?: boolean;
  minReplicas?: number;
  maxReplicas?: number;
  targetMemoryUtilizationPercentage?: number;
  targetCPUUtilizationPercentage?: number;
  behavior?: V2HorizontalPodAutoscalerBehavior;
}

export interface DisruptionSpec {
  minAvailable?: IntOrPercent;
  maxUnavailable?: IntOrPercent;
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface ServerSpec {
  logLevel?: KernelLogLevel;
  maxBodySize?: Quantity;
  corsOrigins?: string[];
  allowedHosts?: string[];
  auth?: { jwtSecretRef?: SecretKeyRef };
  extensions?: { http?: { allowedDomains?: string[] } };
}

export interface ProbeTuning {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ProbesSpec {
  liveness?: ProbeTuning;
  readiness?: ProbeTuning;
  startup?: ProbeTuning;
}

export interface PodOverrides {
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
  priorityClassName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A PersistentVolumeClaim the operator creates. */
export interface VolumeSpec {
  size?: Quantity;
  storageClassName?: string;
  retainOnDelete?: boolean;
}

export interface ManagedStoreSpec {
  image?: string;
  imagePullPolicy?: PullPolicy;
  resources?: ResourcesSpec;
  persistence?: VolumeSpec & { enabled?: boolean };
  maxmemory?: Quantity;
  /** Redis pods: 1, or an odd number with a Sentinel beside each (one primary, the rest replicas). */
  replicas?: number;
  durability?: StoreDurabilitySpec;
  sentinel?: { downAfterMilliseconds?: number };
}

/** What an acknowledged commit survives. */
export interface StoreDurabilitySpec {
  appendfsync?: AppendFsync;
  /** Replicas that hold a commit before it is acknowledged (STORE_ACK_REPLICAS). */
  ackReplicas?: number;
  /** How long a commit waits for them (STORE_ACK_TIMEOUT_MS). */
  ackTimeoutMs?: number;
}

export interface ExternalStoreSpec {
  /** The store's URL; with topology sentinel it names a Sentinel, with the data nodes' credentials. */
  urlSecretRef?: SecretKeyRef;
  topology?: StoreTopology;
  /** Topology sentinel: more Sentinels to start from, `host:port` (STORE_SENTINELS). */
  sentinels?: string[];
  /** Topology sentinel: the name the Sentinels monitor the primary by (STORE_SENTINEL_MASTER). */
  masterName?: string;
  durability?: Omit<StoreDurabilitySpec, 'appendfsync'>;
  tls?: { caSecretRef?: SecretKeyRef };
}

export interface EmbeddedStoreSpec {
  volume?: VolumeSpec;
}

/** The per-panel ring of recent handler log lines. */
export interface LogRingSpec {
  lines?: number;
  size?: Quantity;
}

/** Records of keyed triggers (Idempotency-Key), so that a retried one applies once. */
export interface IdempotencySpec {
  keys?: number;
  resultSize?: Quantity;
  retentionSeconds?: number;
}

export interface StoreSpec {
  mode?: StoreMode;
  history?: number;
  historySize?: Quantity;
  revisions?: number;
  logRing?: LogRingSpec;
  idempotency?: IdempotencySpec;
  keyPrefix?: string;
  maxPanels?: number;
  managed?: ManagedStoreSpec;
  external?: ExternalStoreSpec;
  embedded?: EmbeddedStoreSpec;
}

export interface NetworkPolicySpec {
  enabled?: boolean;
  ingressFrom?: V1NetworkPolicyPeer[];
  egressCIDRs?: string[];
}

export interface NexusRuntimeSpec {
  image?: string;
  imagePullPolicy?: PullPolicy;
  imagePullSecrets?: { name: string }[];
  replicas?: number;
  suspend?: boolean;
  resources?: ResourcesSpec;
  runtime?: RuntimeTuning;
  cache?: CacheSpec;
  autoscaling?: AutoscalingSpec;
  disruption?: DisruptionSpec;
  server?: ServerSpec;
  probes?: ProbesSpec;
  pod?: PodOverrides;
  store?: StoreSpec;
  networkPolicy?: NetworkPolicySpec;
}

/** The managed store's memory arithmetic (and the panel bound every mode publishes). */
export interface StoreBudgetStatus {
  maxPanels: number;
  maxPanelsDerived: boolean;
  maxStateBytes: number;
  /** What one panel may hold in the store at its bounds: state, history, definitions, log ring, overhead. */
  perPanelBytes: number;
  maxmemoryMB?: number;
  limitMB?: number;
  requiredMB?: number;
  worstCaseMB?: number;
  fits?: boolean;
  /** Managed: the store's pods, and what all of them together may use. */
  pods?: number;
  totalMemoryLimitMB?: number;
  totalCPULimitMillicores?: number;
}

/** The memory arithmetic of one runtime, published so users can see why a spec fits or not. */
export interface MemoryBudgetStatus {
  limitMB: number;
  requestMB: number;
  overheadMB: number;
  cacheMB: number;
  panelCacheMB: number;
  instanceMB: number;
  maxInstances: number;
  maxInstancesDerived: boolean;
  requiredMB: number;
  headroomMB: number;
  hpaScaleOutMB?: number;
  /** With autoscaling: the idle kernel's working set the scale-out warning compares with. */
  idleWorkingSetMB?: number;
  fits: boolean;
  store?: StoreBudgetStatus;
}

export interface StoreStatus {
  mode: StoreMode;
  /** host:port of a shared store, without credentials. */
  endpoint?: string;
  topology?: StoreTopology;
  /** The Secret the kernels read STORE_URL from. */
  secretName?: string;
  /** The PersistentVolumeClaim holding embedded panels. */
  volumeClaimName?: string;
  /** Managed: the Redis pods asked for. */
  replicas?: number;
  /** A replicated managed store: the pod the Sentinels name as primary, when they answered. */
  primary?: string;
  /** A replicated managed store: replicas connected to the primary with their link up. */
  replicasInSync?: number;
  /** A replicated managed store: what the Sentinels last said of it, or why they did not answer. */
  replication?: string;
}

export interface EndpointsStatus {
  http: string;
  ws: string;
}

export interface NexusRuntimeStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  replicas?: number;
  desiredReplicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  selector?: string;
  configHash?: string;
  memoryBudget?: MemoryBudgetStatus;
  endpoints?: EndpointsStatus;
  image?: string;
  store?: StoreStatus;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: Date | string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface NexusRuntime {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: NexusRuntimeSpec;
  status?: NexusRuntimeStatus;
}
