// The spec.store and spec.networkPolicy parts of the NexusRuntime schema.
import { DEFAULTS, DEFAULT_MAX_PANELS, LIMITS } from './defaults.js';
import { K8S_SCHEMAS } from './k8s-schemas.js';
import {
  boolean,
  boundedQuantity,
  cpuQuantity,
  integer,
  memoryQuantity,
  object,
  string,
  type JSONSchema,
} from './openapi.js';
import { AppendFsync, PullPolicy, StoreMode, StoreTopology } from './types.js';

const d = DEFAULTS.store;
const MIB = 1048576;

const secretKeyRef = (description: string): JSONSchema =>
  object(
    description,
    {
      name: string('Name of the Secret in the runtime namespace.', { maxLength: 253 }),
      key: string('Key within the Secret.', { maxLength: 253 }),
    },
    { required: ['name', 'key'] },
  );

const volume = (
  what: string,
  defaults: { size: string; retainOnDelete: boolean },
  extra: Record<string, JSONSchema> = {},
): Record<string, JSONSchema> => ({
  ...extra,
  size: memoryQuantity(`Requested size of ${what}.`, defaults.size),
  storageClassName: string(`StorageClass of ${what}; the cluster's default class when unset.`, {
    maxLength: 253,
  }),
  retainOnDelete: boolean(`Keep ${what} when the NexusRuntime is deleted.`, {
    default: defaults.retainOnDelete,
  }),
});

// The store container's memory must hold maxmemory plus what Redis uses beyond it (clients'
// buffers, the AOF rewrite's copy-on-write pages): a quarter of maxmemory, at least 64Mi.
const maxmemoryBytes = 'quantity(self.maxmemory).asInteger()';
const storeHeadroom = `(${maxmemoryBytes} / 4 > ${64 * MIB} ? ${maxmemoryBytes} / 4 : ${64 * MIB})`;

const managed = object(
  'The Redis the operator runs for this runtime: a StatefulSet of one pod (or of a primary, replicas and a Sentinel beside each), its Services, Secret, NetworkPolicy and, replicated, a PodDisruptionBudget.',
  {
    image: string(
      "Redis 7 image. Defaults to the operator's STORE_IMAGE; it must provide redis-server, redis-cli and sh.",
      { maxLength: 512 },
    ),
    imagePullPolicy: string('When the kubelet pulls the store image.', { enum: Object.values(PullPolicy) }),
    resources: object(
      'Compute resources of the store container.',
      {
        requests: object(
          'Resources reserved for the store.',
          {
            cpu: cpuQuantity('CPU request.', d.managed.resources.requests.cpu),
            memory: memoryQuantity('Memory request.', d.managed.resources.requests.memory),
          },
          { default: {} },
        ),
        limits: object(
          'Hard limits of the store container.',
          {
            cpu: cpuQuantity('CPU limit.', d.managed.resources.limits.cpu),
            memory: memoryQuantity(
              'Memory limit: must hold maxmemory plus a quarter of it (at least 64Mi) for buffers and AOF rewrites.',
              d.managed.resources.limits.memory,
            ),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    persistence: object(
      'The volume under /data, where Redis keeps its append-only file.',
      volume('the store volume', d.managed.persistence, {
        enabled: boolean(
          'Keep the data on a PersistentVolumeClaim (survives pod restarts and rescheduling); false uses an emptyDir.',
          { default: d.managed.persistence.enabled },
        ),
      }),
      { default: {} },
    ),
    maxmemory: memoryQuantity(
      'Redis maxmemory. The store never evicts (maxmemory-policy noeviction): beyond it, writes fail.',
      d.managed.maxmemory,
    ),
    replicas: integer(
      'Redis pods. 1: one Redis, restarted by the kubelet when it fails (the store is unavailable meanwhile). 3 (or 5, 7): one primary, the others its replicas, and a Sentinel beside each that promotes a replica when the primary is lost; each pod costs the resources above.',
      { minimum: LIMITS.storeReplicas.min, maximum: LIMITS.storeReplicas.max, default: d.managed.replicas },
    ),
    durability: object(
      'What an acknowledged commit survives, and in which failure (docs/crd-reference.md, "Durability: what an acknowledged commit can lose").',
      {
        appendfsync: string(
          'When each Redis syncs its append-only file: everysec (a process crash loses nothing acknowledged, an operating-system crash or power loss up to the last second) or always (neither loses anything acknowledged; every write waits for the disk).',
          { enum: Object.values(AppendFsync), default: d.managed.durability.appendfsync },
        ),
        ackReplicas: integer(
          'Replicas that hold a commit before it is acknowledged (STORE_ACK_REPLICAS): at most replicas - 1. Unset: 1 with replicas, 0 with one Redis. With 1 or more, losing the primary loses nothing acknowledged; the primary also refuses writes while fewer replicas are connected.',
          { minimum: LIMITS.ackReplicas.min, maximum: LIMITS.ackReplicas.max },
        ),
        ackTimeoutMs: integer(
          'How long a commit waits for ackReplicas replicas (STORE_ACK_TIMEOUT_MS); beyond, the request fails with 503 saying the change may be applied.',
          {
            minimum: LIMITS.ackTimeoutMs.min,
            maximum: LIMITS.ackTimeoutMs.max,
            default: d.managed.durability.ackTimeoutMs,
          },
        ),
      },
      { default: {} },
    ),
    sentinel: object(
      'The Sentinels of a replicated store.',
      {
        downAfterMilliseconds: integer(
          "How long the primary goes unanswered before the Sentinels consider it down and promote a replica (Sentinel's down-after-milliseconds; its own default is 30 s). It bounds the time without a primary: about this plus a few seconds of election.",
          {
            minimum: LIMITS.downAfterMilliseconds.min,
            maximum: LIMITS.downAfterMilliseconds.max,
            default: d.managed.sentinel.downAfterMilliseconds,
          },
        ),
      },
      { default: {} },
    ),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        rule: '!has(self.replicas) || self.replicas % 2 == 1',
        message:
          'store.managed.replicas must be odd (1, 3, 5 or 7): the Sentinels beside the pods need a majority to promote a replica',
      },
      {
        rule: '!has(self.durability) || !has(self.durability.ackReplicas) || self.durability.ackReplicas <= (has(self.replicas) ? self.replicas : 1) - 1',
        message: 'store.managed.durability.ackReplicas must be at most store.managed.replicas - 1',
      },
      {
        rule: `!has(self.resources) || !has(self.resources.limits) || !has(self.maxmemory) || quantity(self.resources.limits.memory).asInteger() >= ${maxmemoryBytes} + ${storeHeadroom}`,
        message:
          'store.managed.resources.limits.memory must hold store.managed.maxmemory plus a quarter of it (at least 64Mi)',
      },
    ],
  },
);

// A Sentinel entry: the kernel's own host:port rule (STORE_SENTINELS), and a TCP port.
const sentinelPort = "int(self.substring(self.lastIndexOf(':') + 1))";
const isSentinel = "has(self.topology) && self.topology == 'sentinel'";

const external = object(
  'A Redis the user runs; the operator never connects to it itself.',
  {
    urlSecretRef: secretKeyRef(
      "Secret key holding redis://[user][:password]@host:port[/db] or rediss://… (TLS); the kernels read it as STORE_URL. With topology sentinel it names a Sentinel, and its credentials are the data nodes' (the Sentinels are sent them too).",
    ),
    topology: string(
      'standalone; cluster for Redis Cluster (the URL names a seed node); or sentinel for a primary and replicas watched by Sentinels (the URL names a Sentinel, the kernels follow the primary they name).',
      { enum: Object.values(StoreTopology), default: d.external.topology },
    ),
    sentinels: {
      type: 'array',
      description:
        "Topology sentinel: more Sentinels to start from, host:port each (STORE_SENTINELS), after the URL's; a kernel asks the next when one does not answer.",
      maxItems: LIMITS.sentinels.maxItems,
      'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'string',
        maxLength: LIMITS.sentinels.maxLength,
        'x-kubernetes-validations': [
          {
            rule: `self.matches(${JSON.stringify(LIMITS.sentinels.pattern)}) && ${sentinelPort} >= 1 && ${sentinelPort} <= 65535`,
            message:
              'must be host:port (a name, an IPv4 address or [an IPv6 address], and a port from 1 to 65535)',
          },
        ],
      },
    },
    masterName: string(
      'Topology sentinel: the name the Sentinels monitor the primary by (STORE_SENTINEL_MASTER).',
      {
        maxLength: LIMITS.sentinelMaster.maxLength,
        pattern: LIMITS.sentinelMaster.pattern,
      },
    ),
    durability: object(
      'What an acknowledged commit survives (docs/crd-reference.md, "Durability: what an acknowledged commit can lose").',
      {
        ackReplicas: integer(
          'Replicas that hold a commit before it is acknowledged (STORE_ACK_REPLICAS): no more than the store has. Unset: 1 with topology sentinel, else 0.',
          { minimum: LIMITS.ackReplicas.min, maximum: LIMITS.ackReplicas.max },
        ),
        ackTimeoutMs: integer(
          'How long a commit waits for ackReplicas replicas (STORE_ACK_TIMEOUT_MS); beyond, the request fails with 503 saying the change may be applied.',
          {
            minimum: LIMITS.ackTimeoutMs.min,
            maximum: LIMITS.ackTimeoutMs.max,
            default: d.external.durability.ackTimeoutMs,
          },
        ),
      },
    ),
    tls: object('TLS towards a rediss:// store.', {
      caSecretRef: secretKeyRef(
        'Secret key holding the PEM CA bundle the kernels trust (STORE_TLS_CA_FILE).',
      ),
    }),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: `!has(self.sentinels) || (${isSentinel})`,
        message: 'store.external.sentinels is read with store.external.topology sentinel only',
      },
      {
        rule: `!has(self.masterName) || (${isSentinel})`,
        message: 'store.external.masterName is read with store.external.topology sentinel only',
      },
    ],
  },
);

const embedded = object(
  "The kernel's own file store: one replica, panels on a PersistentVolumeClaim of their own.",
  {
    volume: object(
      'The PersistentVolumeClaim mounted at /var/lib/nexus.',
      volume('the panels volume', d.embedded.volume),
      { default: {} },
    ),
  },
  { default: {} },
);

export const storeSchema: JSONSchema = object(
  'Where the panels live. Managed: a Redis the operator runs. External: your Redis. Embedded: files of one kernel (no autoscaling).',
  {
    mode: string('Managed, External or Embedded.', { enum: Object.values(StoreMode), default: d.mode }),
    history: integer('PATCHes kept per panel so that clients can resume (STORE_HISTORY).', {
      minimum: LIMITS.history.min,
      maximum: LIMITS.history.max,
      default: d.history,
    }),
    historySize: boundedQuantity(
      'Bytes of PATCHes kept per panel (STORE_HISTORY_BYTES); a PATCH larger than this is not kept, and clients resuming from before it get the state.',
      d.historySize,
      LIMITS.historyBytes,
    ),
    revisions: integer(
      'Definitions kept per panel, the current one included (PANEL_REVISIONS): what GET /panels/:id/revisions lists and a rollback may return to. Each may be as large as server.maxBodySize, and the store budget counts them.',
      { minimum: LIMITS.revisions.min, maximum: LIMITS.revisions.max, default: d.revisions },
    ),
    logRing: object(
      'The per-panel ring of recent handler log lines, shared by the kernels through the store (GET /panels/:id/logs).',
      {
        lines: integer('Lines kept per panel (PANEL_LOG_LINES); 0 keeps none.', {
          minimum: LIMITS.logLines.min,
          maximum: LIMITS.logLines.max,
          default: d.logRing.lines,
        }),
        size: boundedQuantity(
          'Bytes of log lines kept per panel (PANEL_LOG_BYTES).',
          d.logRing.size,
          LIMITS.logBytes,
        ),
      },
      { default: {} },
    ),
    idempotency: object(
      'Records of keyed triggers (an Idempotency-Key), so that a trigger retried after a lost answer or a commit its replicas did not confirm is applied once: the store budget counts them.',
      {
        keys: integer(
          'Records kept per panel (IDEMPOTENCY_KEYS): the last this many keyed triggers of a panel; a retry of an older one is a new request.',
          {
            minimum: LIMITS.idempotencyKeys.min,
            maximum: LIMITS.idempotencyKeys.max,
            default: d.idempotency.keys,
          },
        ),
        resultSize: boundedQuantity(
          'Largest return value a record keeps (IDEMPOTENCY_RESULT_BYTES); a larger one is replayed without it.',
          d.idempotency.resultSize,
          LIMITS.idempotencyResultBytes,
        ),
        retentionSeconds: integer('How long a record answers retries (IDEMPOTENCY_TTL_SECONDS).', {
          minimum: LIMITS.idempotencySeconds.min,
          maximum: LIMITS.idempotencySeconds.max,
          default: d.idempotency.retentionSeconds,
        }),
      },
      { default: {} },
    ),
    keyPrefix: string(
      'Prefix of every key (STORE_KEY_PREFIX), without braces or spaces; lets runtimes share one Redis.',
      {
        default: d.keyPrefix,
        maxLength: LIMITS.keyPrefix.maxLength,
        pattern: LIMITS.keyPrefix.pattern,
      },
    ),
    maxPanels: integer(
      `Most panels the store holds (MAX_PANELS). Unset: ${DEFAULT_MAX_PANELS.Embedded} embedded, ${DEFAULT_MAX_PANELS.External} external, and for Managed the most that fit maxmemory at their bounds (status.memoryBudget.store.perPanelBytes each: state, history, definitions, log ring, idempotency records), at most ${DEFAULT_MAX_PANELS.External}.`,
      { minimum: LIMITS.maxPanels.min, maximum: LIMITS.maxPanels.max },
    ),
    managed,
    external,
    embedded,
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        rule: "!has(self.mode) || self.mode != 'External' || (has(self.external) && has(self.external.urlSecretRef))",
        message: 'store.external.urlSecretRef is required when store.mode is External',
      },
    ],
  },
);

export const networkPolicySchema: JSONSchema = object(
  'The NetworkPolicy of the kernel pods (enforced only by a policy-enforcing CNI). Ingress: the http and ws ports. Egress: DNS, the store, and the http extension.',
  {
    enabled: boolean('Create the kernel NetworkPolicy.', { default: DEFAULTS.networkPolicy.enabled }),
    ingressFrom: {
      ...K8S_SCHEMAS.networkPolicyPeers,
      description:
        'Who may reach the http and ws ports (networking/v1 NetworkPolicyPeer); empty allows every source.',
      maxItems: 32,
    },
    egressCIDRs: {
      type: 'array',
      description:
        "Address ranges the kernels may reach on the http extension's ports and an External store's port (every port with topology sentinel: the Sentinels name the primary's); empty allows every address. NetworkPolicies cannot name domains: allowedDomains is enforced by the kernel, these ranges by the CNI.",
      maxItems: 64,
      'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'string',
        maxLength: 64,
        'x-kubernetes-validations': [
          { rule: 'isCIDR(self)', message: 'must be a CIDR such as 203.0.113.0/24' },
        ],
      },
    },
  },
  { default: {} },
);
