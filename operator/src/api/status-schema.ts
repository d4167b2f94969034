// The status part of the NexusRuntime schema.
import { boolean, integer, object, string, type JSONSchema } from './openapi.js';

const conditionSchema = object(
  'One aspect of the runtime state.',
  {
    type: string('Ready, Progressing or Degraded.', { maxLength: 64 }),
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
  overheadMB: integer('Measured resident memory of an idle kernel.'),
  cacheMB: integer('cache.sizeLimit when the cache lives in memory, else 0.'),
  instanceMB: integer('runtime.memoryLimitMB.'),
  maxInstances: integer('Pool size: spec.runtime.maxInstances or the derived value.'),
  maxInstancesDerived: boolean('Whether maxInstances was derived from the limit.'),
  requiredMB: integer('maxInstances × instanceMB + overheadMB + cacheMB.'),
  headroomMB: integer('limitMB − requiredMB; negative when the budget does not fit.'),
  hpaScaleOutMB: integer('Memory per pod at which the HPA scales out (requests.memory × target %).'),
  fits: boolean('Whether the budget fits the limit.'),
});

export const statusSchema: JSONSchema = object('Observed state of the runtime.', {
  observedGeneration: integer('The generation the operator last reconciled.'),
  conditions: {
    type: 'array',
    description: 'Ready, Progressing and Degraded.',
    items: conditionSchema,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
  replicas: integer('Kernel pods that exist.'),
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
});
