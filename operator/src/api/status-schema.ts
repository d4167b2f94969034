// The status part of the NexusRuntime schema.
import { boolean, integer, object, string, type JSONSchema } from './openapi.js';

const conditionSchema = object(
  'One aspect of the runtime state.',
  {
    type: string('Ready, Progressing, Degraded or StoreReady.', { maxLength: 64 }),
    status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: string('CamelCase reason of the last transition.', { maxLength: 128 }),
    message: string('Human-readable explanation.', { maxLength: 32768 }),
    lastTransitionTime: string('When the status last changed.', { maxLength: 64 }),
    observedGeneration: integer('The generation this condition was computed from.', { minimum: 0 }),
  },
  { required: ['type', 'status', 'lastTransitionTime'] },
);

const budgetSchema = object('The memory budget as computed for the current spec, in MiB.', {
  limitMB: integer('resources.limits.memory.'),
  requestMB: integer('resources.requests.memory.'),
  overheadMB: integer('Measured resident memory of an idle kernel, which the limit must hold.'),
  cacheMB: integer('cache.sizeLimit when the cache lives in memory, else 0.'),
  panelCacheMB: integer("runtime.panelCacheSize: the bound of the kernel's caches of shared panels."),
  instanceMB: integer('runtime.memoryLimitMB.'),
  maxInstances: integer('Pool size: spec.runtime.maxInstances or the derived value.'),
  maxInstancesDerived: boolean('Whether maxInstances was derived from the limit.'),
  requiredMB: integer('maxInstances × instanceMB + overheadMB + cacheMB + panelCacheMB.'),
  headroomMB: integer('limitMB − requiredMB; negative when the budget does not fit.'),
  hpaScaleOutMB: integer('Memory per pod at which the HPA scales out (requests.memory × target %).'),
  idleWorkingSetMB: integer(
    'Working set of an idle kernel (what the HPA measures); at or above hpaScaleOutMB the runtime is Degraded with ScaleOutBelowOverhead.',
  ),
  fits: boolean('Whether the budget fits the limit.'),
  store: object("The panel bound, and the managed store's memory arithmetic.", {
    maxPanels: integer('MAX_PANELS: spec.store.maxPanels or the derived value.'),
    maxPanelsDerived: boolean('Whether maxPanels was derived (from maxmemory, or the mode default).'),
    maxStateBytes: integer('MAX_STATE_BYTES: runtime.maxStateSize in bytes.'),
    perPanelBytes: integer(
      "Bytes one panel may hold in the store at its bounds: its largest state, its history (store.historySize), its current definition and store.revisions kept ones (server.maxBodySize each), its log ring (store.logRing.size), its idempotency records (store.idempotency), a quarter of those for the allocator's size classes, and a fixed overhead.",
    ),
    maxmemoryMB: integer('Managed: store.managed.maxmemory.'),
    limitMB: integer('Managed: store.managed.resources.limits.memory.'),
    requiredMB: integer(
      'Managed: maxmemory plus a quarter of it (at least 64Mi), which the limit must hold.',
    ),
    worstCaseMB: integer('Managed: maxPanels × perPanelBytes, every panel at its bounds.'),
    fits: boolean('Managed: whether worstCaseMB fits maxmemory.'),
    pods: integer('Managed: the store pods (store.managed.replicas).'),
    totalMemoryLimitMB: integer(
      'Managed: the memory limits of every store pod together (Redis, and with replicas its Sentinel); each pod holds a full copy of the panels.',
    ),
    totalCPULimitMillicores: integer('Managed: the CPU limits of every store pod together.'),
  }),
});

const storeStatusSchema = object('The panel store the kernels use.', {
  mode: string('Managed, External or Embedded.', { maxLength: 16 }),
  endpoint: string('host:port of a shared store, without credentials.'),
  topology: string('standalone or cluster.'),
  secretName: string('The Secret the kernels read STORE_URL from.'),
  volumeClaimName: string('The PersistentVolumeClaim of an embedded store.'),
  replicas: integer('Managed: the Redis pods asked for.'),
  primary: string('A replicated managed store: the pod the Sentinels name as primary, when they answered.'),
  replicasInSync: integer(
    'A replicated managed store: replicas connected to the primary with their replication link up.',
  ),
  replication: string(
    'A replicated managed store: what the Sentinels last said of it (primary, replicas in sync), or why they did not answer the operator.',
  ),
});

export const statusSchema: JSONSchema = object('Observed state of the runtime.', {
  observedGeneration: integer('The generation the operator last reconciled.'),
  conditions: {
    type: 'array',
    description: 'Ready, Progressing, Degraded and StoreReady.',
    items: conditionSchema,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
  replicas: integer('Kernel pods that exist.'),
  desiredReplicas: integer(
    'Kernel pods wanted: the count of the HPA, spec.replicas, or 1 for an embedded store.',
  ),
  readyReplicas: integer('Kernel pods that are ready.'),
  updatedReplicas: integer('Kernel pods running the current configuration.'),
  availableReplicas: integer('Kernel pods available to serve.'),
  selector: string('Label selector of the kernel pods, for the scale subresource.'),
  configHash: string('Hash of the kernel ConfigMap data rolled out last.'),
  memoryBudget: budgetSchema,
  endpoints: object('In-cluster addresses of the kernel Service.', {
    http: string('HTTP base URL.'),
    ws: string('WebSocket base URL.'),
  }),
  image: string('Kernel image the Deployment runs.'),
  store: storeStatusSchema,
});
