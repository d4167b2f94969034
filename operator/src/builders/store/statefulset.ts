// The managed store: a StatefulSet of one Redis pod (or, replicated, of N pods each with a Redis
// and a Sentinel: see replication.ts), hardened like the kernels, each pod's data on a volume
// claim (or an emptyDir without persistence), the password read from the Secret.
import type {
  V1Affinity,
  V1Container,
  V1TopologySpreadConstraint,
  V1EnvVar,
  V1PersistentVolumeClaim,
  V1Probe,
  V1StatefulSet,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { Component, childName } from '../../api/children.js';
import { CONFIG_HASH_ANNOTATION, STORE_SECRET_HASH_ANNOTATION } from '../../api/group.js';
import { commonLabels, selectorLabels } from '../../api/labels.js';
import {
  EPHEMERAL,
  mi,
  sentinelEphemeralStorage,
  storeDataMiB,
  storeEphemeralStorage,
} from '../ephemeral.js';
import { contentHash } from '../hash.js';
import { childMetadata } from '../labels.js';
import { PORTS, replicatedStore, type RuntimePlan } from '../plan.js';
import { hardenedContainer, hardenedPod } from '../security.js';
import { REDIS_CONF_KEY, redisConf, storeConfigData } from './config.js';
import { SENTINEL_DIR, SENTINEL_RESOURCES, replicatedRedisStart, sentinelStart } from './replication.js';

const CONF_DIR = '/etc/nexus-store';
const DATA_VOLUME = 'data';

/**
 * Redis reads its configuration from stdin: the ConfigMap's file, then the password. The shell
 * execs redis-server (PID 1, so SIGTERM reaches it) and the password never appears in argv.
 */
const START = [
  'exec redis-server - <<EOF',
  `include ${CONF_DIR}/${REDIS_CONF_KEY}`,
  'requirepass $REDIS_PASSWORD',
  'EOF',
].join('\n');

const CLI = `redis-cli -h 127.0.0.1 -p ${PORTS.store}`;
const SENTINEL_CLI = `redis-cli -h 127.0.0.1 -p ${PORTS.sentinel}`;
/** Ready: PING answered with PONG (authenticated through REDISCLI_AUTH) within the probe's timeout. */
const PING = `${CLI} ping | grep -q PONG`;
/**
 * Alive: the server answers at all — PONG, or LOADING / BUSY while it loads its file or runs a long
 * script. A slow or busy Redis leaves the Service (readiness) instead of being restarted, which
 * would only make it load its file again; only one that does not answer within the liveness
 * timeout, or refuses connections, is restarted.
 */
const ANSWERS = `${CLI} ping 2>&1 | grep -qv '^Could not connect'`;
/**
 * Ready in a replicated store: the primary, or a replica whose link to the primary is up (so in
 * sync, up to the replication stream in flight). A replica still loading the primary's data, or
 * cut off from it, leaves the Services and holds a rollout until it has caught up. PING first: a
 * primary still loading its file answers INFO (role:master) but not the kernels' commands.
 */
const IN_SYNC = `${PING} && i="$(${CLI} info replication)" && { echo "$i" | grep -q '^role:master' || echo "$i" | grep -q '^master_link_status:up'; }`;
const SENTINEL_PING = `${SENTINEL_CLI} ping | grep -q PONG`;
const SENTINEL_ANSWERS = `${SENTINEL_CLI} ping 2>&1 | grep -qv '^Could not connect'`;

const exec = (
  command: string,
  periodSeconds: number,
  failureThreshold: number,
  timeoutSeconds: number,
): V1Probe => ({
  exec: { command: ['sh', '-c', command] },
  periodSeconds,
  timeoutSeconds,
  failureThreshold,
  successThreshold: 1,
});

function claimTemplate(plan: RuntimePlan): V1PersistentVolumeClaim | undefined {
  if (plan.store.mode !== 'Managed' || !plan.store.persistence.enabled) return undefined;
  const { size, storageClassName } = plan.store.persistence;
  const claim: V1PersistentVolumeClaim = {
    metadata: { name: DATA_VOLUME, labels: commonLabels(plan.name, Component.Store) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  };
  if (storageClassName) claim.spec!.storageClassName = storageClassName;
  return claim;
}

/** Spread a replicated store's pods over nodes (and zones) where there are several; never required. */
function spread(plan: RuntimePlan): {
  affinity: V1Affinity;
  topologySpreadConstraints: V1TopologySpreadConstraint[];
} {
  const labelSelector = { matchLabels: selectorLabels(plan.name, Component.Store) };
  return {
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector } },
        ],
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector,
      },
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector,
      },
    ],
  };
}

function sentinelContainer(plan: RuntimePlan, env: V1EnvVar[]): V1Container {
  const { managed } = plan.spec.store;
  const disk = sentinelEphemeralStorage();
  return {
    name: 'sentinel',
    image: managed.image,
    ...(managed.imagePullPolicy ? { imagePullPolicy: managed.imagePullPolicy } : {}),
    command: ['sh', '-c', sentinelStart(plan, CONF_DIR)],
    env,
    ports: [{ name: 'sentinel', containerPort: PORTS.sentinel, protocol: 'TCP' }],
    resources: {
      requests: { ...SENTINEL_RESOURCES.requests, 'ephemeral-storage': disk },
      limits: { ...SENTINEL_RESOURCES.limits, 'ephemeral-storage': disk },
    },
    // The start script may wait 6 s for the other Sentinels and 60 s for the primary's name.
    startupProbe: exec(SENTINEL_ANSWERS, 2, 45, 3),
    readinessProbe: exec(SENTINEL_PING, 5, 3, 2),
    livenessProbe: exec(SENTINEL_ANSWERS, 10, 6, 5),
    securityContext: hardenedContainer(),
    volumeMounts: [
      { name: 'config', mountPath: CONF_DIR, readOnly: true },
      { name: 'sentinel', mountPath: SENTINEL_DIR },
    ],
  };
}

export function buildStoreStatefulSet(plan: RuntimePlan): V1StatefulSet {
  if (plan.store.mode !== 'Managed') throw new Error('a store StatefulSet needs a managed store');
  const { managed } = plan.spec.store;
  const replicated = replicatedStore(plan);
  const secret = childName('storeSecret', plan.name);
  const password = { secretKeyRef: { name: secret, key: 'password' } };
  const claim = claimTemplate(plan);
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: childName('storeConfig', plan.name) } },
    { name: 'tmp', emptyDir: { sizeLimit: mi(EPHEMERAL.storeTmpMiB) } },
  ];
  if (!claim) volumes.push({ name: DATA_VOLUME, emptyDir: { sizeLimit: mi(storeDataMiB(plan.spec)) } });
  if (replicated) volumes.push({ name: 'sentinel', emptyDir: { sizeLimit: mi(EPHEMERAL.sentinelDirMiB) } });
  const disk = storeEphemeralStorage(plan.spec, claim !== undefined);
  const mounts: V1VolumeMount[] = [
    { name: DATA_VOLUME, mountPath: '/data' },
    { name: 'config', mountPath: CONF_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  // Replicated, Redis reads the primary its Sentinel last monitored when no Sentinel answers.
  if (replicated) mounts.push({ name: 'sentinel', mountPath: SENTINEL_DIR, readOnly: true });
  const env: V1EnvVar[] = [
    { name: 'REDIS_PASSWORD', valueFrom: password },
    { name: 'REDISCLI_AUTH', valueFrom: password },
  ];
  if (replicated) env.push({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  const redis: V1Container = {
    name: 'redis',
    image: managed.image,
    ...(managed.imagePullPolicy ? { imagePullPolicy: managed.imagePullPolicy } : {}),
    command: ['sh', '-c', replicated ? replicatedRedisStart(plan, `${CONF_DIR}/${REDIS_CONF_KEY}`) : START],
    env,
    ports: [{ name: 'redis', containerPort: PORTS.store, protocol: 'TCP' }],
    resources: {
      requests: {
        cpu: String(managed.resources.requests.cpu),
        memory: managed.resources.requests.memory,
        'ephemeral-storage': disk,
      },
      limits: {
        cpu: String(managed.resources.limits.cpu),
        memory: managed.resources.limits.memory,
        'ephemeral-storage': disk,
      },
    },
    // Loading a large append-only file takes a while: the startup probe waits up to 5 min.
    startupProbe: exec(ANSWERS, 2, 150, 3),
    // Out of rotation after 15 s of slow or failed PINGs (or, replicated, out of sync); back as soon as one succeeds.
    readinessProbe: exec(replicated ? IN_SYNC : PING, 5, 3, 2),
    // Restarted only after a minute without any answer.
    livenessProbe: exec(ANSWERS, 10, 6, 5),
    securityContext: hardenedContainer(),
    volumeMounts: mounts,
  };
  const statefulSet: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMetadata(plan, 'storeStatefulSet'),
    spec: {
      replicas: managed.replicas,
      serviceName: plan.store.serviceName,
      selector: { matchLabels: selectorLabels(plan.name, Component.Store) },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: managed.persistence.retainOnDelete ? 'Retain' : 'Delete',
        whenScaled: 'Retain',
      },
      template: {
        metadata: {
          labels: commonLabels(plan.name, Component.Store),
          // A new configuration or password restarts the store.
          annotations: {
            // (One Redis hashes its one file, as it always has: an upgrade restarts no store.)
            [CONFIG_HASH_ANNOTATION]: contentHash(replicated ? storeConfigData(plan) : redisConf(plan)),
            [STORE_SECRET_HASH_ANNOTATION]: contentHash(plan.store.credentials.password),
          },
        },
        spec: {
          ...hardenedPod(),
          terminationGracePeriodSeconds: 30,
          containers: replicated ? [redis, sentinelContainer(plan, env)] : [redis],
          volumes,
          ...(replicated ? spread(plan) : {}),
        },
      },
    },
  };
  if (claim) statefulSet.spec!.volumeClaimTemplates = [claim];
  return statefulSet;
}
