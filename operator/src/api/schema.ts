// The OpenAPI v3 schema of NexusRuntime, with its defaults, bounds, CEL rules and descriptions.
// crds/ is generated from it (make generate-crd); schema.test.ts checks it against types.ts.
import { BUDGET_RULE } from './budget-rule.js';
import { DEFAULTS, LIMITS } from './defaults.js';
import { CacheMedium, KernelLogLevel, PullPolicy } from './types.js';

export type { JSONSchema } from './openapi.js';
import {
  boolean,
  boundedQuantity,
  cappedMemoryQuantity,
  cpuQuantity,
  integer,
  intOrPercent,
  memoryQuantity,
  object,
  string,
  stringList,
  stringMap,
  type JSONSchema,
} from './openapi.js';
import { K8S_SCHEMAS } from './k8s-schemas.js';
import { statusSchema } from './status-schema.js';
import { runtimeSchema } from './runtime-schema.js';
import { networkPolicySchema, storeSchema } from './store-schema.js';
export { statusSchema };

/** A schema Kubernetes publishes (api/k8s-schemas.ts), under a description of our own. */
const k8s = (schema: JSONSchema, description: string, extra: Omit<JSONSchema, 'description'> = {}) => ({
  ...schema,
  description,
  ...extra,
});

/** What the kernel's HTTP_ALLOWED_DOMAINS accepts: names, IPv4 addresses and CIDRs, [IPv6], each with an optional :port. */
const DOMAIN_RULE =
  '^((\\*\\.)?[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?|[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}|\\[[0-9A-Fa-f:.]+(/[0-9]{1,3})?\\])(:[0-9]{1,5})?$';
/** What the kernel's ALLOWED_HOSTS accepts: a host name, *.domain (its subdomains) or * (any host). */
const HOST_RULE =
  '^(\\*|(\\*\\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*)$';
const probe = (what: string, defaults: Readonly<Record<string, number>>): JSONSchema =>
  object(
    `Timing of the kernel's ${what} probe.`,
    {
      initialDelaySeconds: integer('Seconds after the container starts before the first probe.', {
        minimum: 0,
        maximum: 3600,
        default: defaults.initialDelaySeconds,
      }),
      periodSeconds: integer('Seconds between probes.', {
        minimum: 1,
        maximum: 3600,
        default: defaults.periodSeconds,
      }),
      timeoutSeconds: integer('Seconds after which one probe counts as failed.', {
        minimum: 1,
        maximum: 3600,
        default: defaults.timeoutSeconds,
      }),
      failureThreshold: integer('Consecutive failures before the probe gives up.', {
        minimum: 1,
        maximum: 1000,
        default: defaults.failureThreshold,
      }),
    },
    { default: {} },
  );

const d = DEFAULTS;

export const specSchema: JSONSchema = object(
  'Desired state of a fleet of workspace kernels.',
  {
    image: string('Kernel container image. Defaults to the image matching the operator version.', {
      maxLength: 512,
    }),
    imagePullPolicy: string('When the kubelet pulls the kernel image.', { enum: Object.values(PullPolicy) }),
    imagePullSecrets: {
      type: 'array',
      description: 'Secrets for pulling the kernel image from a private registry.',
      maxItems: 16,
      'x-kubernetes-list-type': 'atomic',
      items: object(
        'A Secret in the runtime namespace.',
        { name: string('Name of the Secret.', { maxLength: 253 }) },
        { required: ['name'] },
      ),
    },
    replicas: integer(
      'Kernel pods when autoscaling is off. The scale subresource points here; while autoscaling is on the HPA owns the count and a change is refused.',
      {
        minimum: LIMITS.replicas.min,
        maximum: LIMITS.replicas.max,
        default: d.replicas,
      },
    ),
    suspend: boolean('Scale the kernel Deployment to zero and remove the HPA; nothing else is deleted.', {
      default: d.suspend,
    }),
    resources: object(
      'Compute resources of each kernel container. The memory limit bounds the whole memory budget.',
      {
        requests: object(
          'Resources reserved for each kernel. The HPA measures memory utilization against requests.memory.',
          {
            cpu: cpuQuantity('CPU request, in cores or millicores.', d.resources.requests.cpu),
            memory: memoryQuantity('Memory request.', d.resources.requests.memory),
          },
          { default: {} },
        ),
        limits: object(
          'Hard limits of each kernel container.',
          {
            cpu: cpuQuantity('CPU limit, in cores or millicores.', d.resources.limits.cpu),
            memory: memoryQuantity(
              'Memory limit: must hold maxInstances × runtime.memoryLimitMB + the kernel overhead + an in-memory cache.',
              d.resources.limits.memory,
            ),
          },
          { default: {} },
        ),
      },
      {
        default: {},
        'x-kubernetes-validations': [
          {
            rule:
              '!has(self.requests) || !has(self.limits) || !has(self.requests.memory) || !has(self.limits.memory) || ' +
              'quantity(self.requests.memory).compareTo(quantity(self.limits.memory)) <= 0',
            message: 'resources.requests.memory must not exceed resources.limits.memory',
          },
        ],
      },
    ),
    runtime: runtimeSchema,
    cache: object(
      'The emptyDir mounted at CACHE_DIR (compiled modules and handler bytecode).',
      {
        medium: string('Memory counts against the container memory limit; Disk uses node storage.', {
          enum: Object.values(CacheMedium),
          default: d.cache.medium,
        }),
        sizeLimit: cappedMemoryQuantity(
          'Size limit of the cache volume (the kernel reads it as CACHE_MAX_BYTES).',
          d.cache.sizeLimit,
          LIMITS.cacheBytes.max,
        ),
      },
      { default: {} },
    ),
    autoscaling: object(
      'Horizontal pod autoscaling of the kernel Deployment on memory (and optionally CPU) utilization.',
      {
        enabled: boolean('Create an HPA; while enabled the operator leaves the replica count to it.', {
          default: d.autoscaling.enabled,
        }),
        minReplicas: integer('Fewest kernel pods the HPA keeps.', {
          minimum: LIMITS.autoscalingReplicas.min,
          maximum: LIMITS.autoscalingReplicas.max,
          default: d.autoscaling.minReplicas,
        }),
        maxReplicas: integer('Most kernel pods the HPA may run.', {
          minimum: LIMITS.autoscalingReplicas.min,
          maximum: LIMITS.autoscalingReplicas.max,
          default: d.autoscaling.maxReplicas,
        }),
        targetMemoryUtilizationPercentage: integer(
          'Average memory use, as a percentage of requests.memory, above which the HPA adds pods.',
          {
            minimum: LIMITS.utilizationPercentage.min,
            maximum: LIMITS.utilizationPercentage.max,
            default: d.autoscaling.targetMemoryUtilizationPercentage,
          },
        ),
        targetCPUUtilizationPercentage: integer(
          'Average CPU use, as a percentage of requests.cpu, above which the HPA adds pods (beside the memory target).',
          {
            minimum: LIMITS.utilizationPercentage.min,
            maximum: LIMITS.utilizationPercentage.max,
            default: d.autoscaling.targetCPUUtilizationPercentage,
          },
        ),
        behavior: k8s(
          K8S_SCHEMAS.behavior,
          'Scale-up and scale-down behavior, passed to the HPA (autoscaling/v2 HorizontalPodAutoscalerBehavior).',
        ),
      },
      {
        default: {},
        'x-kubernetes-validations': [
          {
            rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas',
            message: 'autoscaling.minReplicas must not exceed autoscaling.maxReplicas',
          },
        ],
      },
    ),
    disruption: object(
      'PodDisruptionBudget of the kernel pods, created when more than one replica can run. Defaults to maxUnavailable 1.',
      {
        minAvailable: intOrPercent(
          'Pods (or percentage) that must stay available during voluntary disruptions.',
        ),
        maxUnavailable: intOrPercent(
          'Pods (or percentage) that may be unavailable during voluntary disruptions.',
        ),
      },
      {
        'x-kubernetes-validations': [
          {
            rule: '!(has(self.minAvailable) && has(self.maxUnavailable))',
            message: 'set disruption.minAvailable or disruption.maxUnavailable, not both',
          },
        ],
      },
    ),
    server: object(
      'HTTP and WebSocket server settings of the kernel.',
      {
        logLevel: string('Kernel log level.', {
          enum: Object.values(KernelLogLevel),
          default: d.server.logLevel,
        }),
        maxBodySize: boundedQuantity(
          'Largest request body (BODY_LIMIT). A panel definition is at most this large, so it also sizes the definitions the store keeps (store.revisions).',
          d.server.maxBodySize,
          LIMITS.bodyBytes,
        ),
        corsOrigins: stringList('Origins allowed by CORS; empty allows none.'),
        allowedHosts: stringList(
          "Host names the kernels answer to besides IP addresses, localhost and the runtime's Service names (e.g. an Ingress' host): name, *.domain (its subdomains) or * (any host, no check). Lower-case. Requests naming another Host get 421.",
          64,
          HOST_RULE,
        ),
        auth: object('Authentication of panel requests.', {
          jwtSecretRef: object(
            'Secret key holding the JWT signing secret; when set, every panel route requires a Bearer token.',
            {
              name: string('Name of the Secret in the runtime namespace.', { maxLength: 253 }),
              key: string('Key within the Secret.', { maxLength: 253 }),
            },
            { required: ['name', 'key'] },
          ),
        }),
        extensions: object('Built-in extensions handlers may call.', {
          http: object('The http extension.', {
            allowedDomains: stringList(
              'Where handlers may go through $ext.http: host, *.host (subdomains), an IPv4 address or CIDR, [IPv6] or [IPv6/prefix], each optionally :port; empty allows none. Non-public addresses are reached only when listed by address or CIDR.',
              256,
              DOMAIN_RULE,
            ),
          }),
        }),
      },
      { default: {} },
    ),
    probes: object(
      'Timing of the kernel liveness (/health), readiness (/ready) and startup (/health) probes.',
      {
        liveness: probe('liveness', d.probes.liveness),
        readiness: probe('readiness', d.probes.readiness),
        startup: probe('startup', d.probes.startup),
      },
      { default: {} },
    ),
    pod: object('Scheduling and metadata passed through to the kernel pod template.', {
      nodeSelector: stringMap('Node labels the kernel pods must be scheduled on.'),
      tolerations: k8s(K8S_SCHEMAS.tolerations, 'Tolerations of the kernel pods (core/v1 Toleration).', {
        maxItems: 64,
      }),
      affinity: k8s(K8S_SCHEMAS.affinity, 'Affinity of the kernel pods (core/v1 Affinity).'),
      topologySpreadConstraints: k8s(
        K8S_SCHEMAS.topologySpreadConstraints,
        'Topology spread constraints of the kernel pods (core/v1 TopologySpreadConstraint). Unset: a soft spread over kubernetes.io/hostname; an empty list turns spreading off.',
        { maxItems: 16 },
      ),
      priorityClassName: string('PriorityClass of the kernel pods.', { maxLength: 253 }),
      labels: stringMap('Extra labels on the kernel pods.'),
      annotations: stringMap('Extra annotations on the kernel pods.'),
    }),
    store: storeSchema,
    networkPolicy: networkPolicySchema,
  },
  {
    'x-kubernetes-validations': [
      BUDGET_RULE,
      {
        // kubectl scale writes spec.replicas through the scale subresource; under an HPA that would
        // succeed and do nothing, so it is refused instead (Embedded ignores replicas and says so).
        rule:
          '!has(oldSelf.replicas) || !has(self.replicas) || self.replicas == oldSelf.replicas || ' +
          '!has(self.autoscaling) || !has(self.autoscaling.enabled) || !self.autoscaling.enabled || ' +
          "(has(self.store) && has(self.store.mode) && self.store.mode == 'Embedded')",
        message:
          'spec.replicas cannot change while spec.autoscaling.enabled is true: the HPA sets the number of kernel pods. ' +
          'Change spec.autoscaling.minReplicas and maxReplicas, or set spec.autoscaling.enabled to false first',
        fieldPath: '.replicas',
      },
    ],
  },
);

/**
 * Fields whose schema is Kubernetes' own (api/k8s-schemas.ts): documented by Kubernetes, so the
 * reference and the type checks stop at them.
 */
export const EMBEDDED_PATHS = [
  'spec.autoscaling.behavior',
  'spec.pod.tolerations',
  'spec.pod.affinity',
  'spec.pod.topologySpreadConstraints',
  'spec.networkPolicy.ingressFrom',
] as const;

export const openAPIV3Schema: JSONSchema = object(
  'A fleet of Nexus workspace kernels, autoscaled and memory-budgeted.',
  {
    apiVersion: string('API version of this object.'),
    kind: string('Kind of this object.'),
    metadata: { type: 'object' },
    spec: { ...specSchema, default: {} },
    status: statusSchema,
  },
);
