// A replicated managed store: a StatefulSet of N pods, each a Redis and a Sentinel beside it.
// Every pod and Sentinel is named by its stable DNS name under the headless storePods Service
// (`<pod>.<service>.<namespace>.svc`), never by an address that changes when a pod restarts: Redis
// announces it as its replica address, and the Sentinels resolve and announce host names.
//
// Roles at start: a pod asks the Sentinels which pod is primary and follows it; when none answers
// (a new store, or every Sentinel restarting) the first pod is the primary. So the first pod of a
// store that has failed over returns as a replica of the promoted one, and a store switched from
// one Redis keeps that Redis' data: its pod is the first, and the new pods replicate from it.
import { variables as kernel } from '@nexus/kernel/config-table';
import { childName } from '../../api/children.js';
import { PORTS, type RuntimePlan } from '../plan.js';

/** The name the Sentinels monitor the primary by: the kernel's default STORE_SENTINEL_MASTER. */
export const SENTINEL_MASTER = kernel.STORE_SENTINEL_MASTER.default ?? 'nexus';

/**
 * How far behind (seconds) a replica may be and still count for min-replicas-to-write: a primary
 * cut off from its replicas for longer refuses writes, so that one the Sentinels have replaced
 * cannot keep taking them.
 */
export const MIN_REPLICAS_MAX_LAG_SECONDS = 10;

/**
 * Sentinel's failover-timeout (its default is 3 minutes). A Sentinel that gives a failover up
 * tries again after twice this, and it does give up when the replicas' INFO, which it reads every
 * 10 s until the primary is down, is older than 5 s when it picks one: about half the time with a
 * down-after of 5 s. So this bounds a failover's worst case (about down-after + 2 × this); it also
 * bounds the wait for the promoted replica to take the role, and how soon a pod still following
 * the old primary is pointed at the new one.
 */
export const SENTINEL_FAILOVER_TIMEOUT_MS = 3000;

/** How long a starting pod waits for each Sentinel's answer. */
export const SENTINEL_ASK_TIMEOUT_SECONDS = 2;

/**
 * The Sentinel container's resources: a Sentinel holds a few connections and a few KiB of state
 * (an idle one's RSS is under 10 MiB), and wakes ten times a second.
 */
export const SENTINEL_RESOURCES = {
  requests: { cpu: '10m', memory: '16Mi' },
  limits: { cpu: '100m', memory: '64Mi' },
} as const;

/**
 * How long a starting Sentinel waits for the primary's name to resolve: Sentinel refuses to start
 * on a `monitor` line whose host does not resolve, and a new pod's DNS record appears a moment
 * after the pod (the headless Service lists pods before they are ready).
 */
export const SENTINEL_RESOLVE_WAIT_SECONDS = 60;

export const SENTINEL_CONF_KEY = 'sentinel.conf';
export const SENTINEL_MASTER_CONF_KEY = 'sentinel-master.conf';
/** Where the Sentinel's own, writable configuration lives (an emptyDir): Sentinel rewrites it. */
export const SENTINEL_DIR = '/sentinel';

/** Sentinels that must agree the primary is down: a majority of the pods. */
export function sentinelQuorum(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

/** The DNS domain of the store's pods: `<service>.<namespace>.svc`. */
export function podDomain(plan: RuntimePlan): string {
  if (plan.store.mode !== 'Managed') throw new Error('a pod domain needs a managed store');
  return `${plan.store.serviceName}.${plan.namespace}.svc`;
}

/** The stable DNS names of the store's pods, the first one first. */
export function podHosts(plan: RuntimePlan): string[] {
  const statefulSet = childName('storeStatefulSet', plan.name);
  const domain = podDomain(plan);
  return Array.from({ length: plan.spec.store.managed.replicas }, (_, i) => `${statefulSet}-${i}.${domain}`);
}

/** host:port of each pod's Sentinel (STORE_SENTINELS). */
export function sentinelAddresses(plan: RuntimePlan): string[] {
  return podHosts(plan).map((host) => `${host}:${PORTS.sentinel}`);
}

/** host:port of the Sentinels' Service. */
export function sentinelEndpoint(name: string, namespace: string): string {
  return `${childName('storeSentinelService', name)}.${namespace}.svc:${PORTS.sentinel}`;
}

/** The Sentinel settings that do not depend on the pod: the head of every Sentinel's file. */
export function sentinelConf(plan: RuntimePlan): string {
  return [
    `# The Sentinels of NexusRuntime ${plan.namespace}/${plan.name}, written by nexus-operator.`,
    `port ${PORTS.sentinel}`,
    `dir ${SENTINEL_DIR}`,
    'sentinel resolve-hostnames yes',
    'sentinel announce-hostnames yes',
    '',
  ].join('\n');
}

/** The settings of the monitored primary, which follow its `sentinel monitor` line. */
export function sentinelMasterConf(plan: RuntimePlan): string {
  const { downAfterMilliseconds } = plan.spec.store.managed.sentinel;
  return [
    `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${downAfterMilliseconds}`,
    `sentinel failover-timeout ${SENTINEL_MASTER} ${SENTINEL_FAILOVER_TIMEOUT_MS}`,
    // One replica resynchronises at a time; the others keep serving the old data meanwhile.
    `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
    '',
  ].join('\n');
}

/** The redis.conf lines only a replicated store has. */
export function replicationConf(plan: RuntimePlan): string[] {
  const { ackReplicas } = plan.spec.store.managed.durability;
  if (ackReplicas === 0) return [];
  return [`min-replicas-to-write ${ackReplicas}`, `min-replicas-max-lag ${MIN_REPLICAS_MAX_LAG_SECONDS}`];
}

/**
 * Shell that sets PRIMARY to the pod the Sentinels name as primary; when none answers, to the one
 * this pod's Sentinel last monitored (its file, on the pod's emptyDir, outlives container restarts
 * and a node's reboot, when every container restarts at once); else to the first pod (a new pod,
 * or every pod recreated: the StatefulSet starts them in order, so the first must not wait for
 * another). ME is this pod's DNS name (POD_NAME comes from the downward API). An answer counts
 * only if it names one of this store's pods.
 */
function findPrimary(plan: RuntimePlan): string[] {
  const domain = podDomain(plan);
  const hosts = podHosts(plan);
  return [
    `ME="$POD_NAME.${domain}"`,
    'PRIMARY=""',
    `for s in ${hosts.join(' ')}; do`,
    `  a="$(timeout ${SENTINEL_ASK_TIMEOUT_SECONDS} redis-cli -h "$s" -p ${PORTS.sentinel} --no-auth-warning sentinel get-master-addr-by-name ${SENTINEL_MASTER} 2>/dev/null | head -n 1)"`,
    `  case "$a" in *.${domain}) PRIMARY="$a"; break;; esac`,
    'done',
    `[ -n "$PRIMARY" ] || PRIMARY="$(sed -n 's/^sentinel monitor ${SENTINEL_MASTER} \\([^ ]*\\) .*/\\1/p' ${SENTINEL_DIR}/sentinel.conf 2>/dev/null | head -n 1)"`,
    `case "$PRIMARY" in *.${domain}) ;; *) PRIMARY="${hosts[0]}";; esac`,
  ];
}

/**
 * The Redis container of a replicated store: its configuration on stdin (the password never in
 * argv), a replica of PRIMARY unless it is PRIMARY, announcing its DNS name to the primary.
 */
export function replicatedRedisStart(plan: RuntimePlan, include: string): string {
  return [
    ...findPrimary(plan),
    'REPLICAOF=""',
    `[ "$PRIMARY" = "$ME" ] || REPLICAOF="replicaof $PRIMARY ${PORTS.store}"`,
    'exec redis-server - <<EOF',
    `include ${include}`,
    'requirepass $REDIS_PASSWORD',
    'masterauth $REDIS_PASSWORD',
    'replica-announce-ip $ME',
    '$REPLICAOF',
    'EOF',
  ].join('\n');
}

/**
 * The Sentinel container: its file assembled in an emptyDir (Sentinel rewrites it, the root file
 * system is read-only) from the ConfigMap's two parts and the pod's own lines, then
 * `redis-server <file> --sentinel`.
 */
export function sentinelStart(plan: RuntimePlan, confDir: string): string {
  const quorum = sentinelQuorum(plan.spec.store.managed.replicas);
  const file = `${SENTINEL_DIR}/sentinel.conf`;
  return [
    ...findPrimary(plan),
    'i=0',
    `until getent hosts "$PRIMARY" >/dev/null 2>&1 || [ "$i" -ge ${SENTINEL_RESOLVE_WAIT_SECONDS} ]; do i=$((i + 1)); sleep 1; done`,
    `cp ${confDir}/${SENTINEL_CONF_KEY} ${file}`,
    `cat >> ${file} <<EOF`,
    'sentinel announce-ip $ME',
    `sentinel announce-port ${PORTS.sentinel}`,
    'requirepass $REDIS_PASSWORD',
    'sentinel sentinel-pass $REDIS_PASSWORD',
    `sentinel monitor ${SENTINEL_MASTER} $PRIMARY ${PORTS.store} ${quorum}`,
    `sentinel auth-pass ${SENTINEL_MASTER} $REDIS_PASSWORD`,
    'EOF',
    `cat ${confDir}/${SENTINEL_MASTER_CONF_KEY} >> ${file}`,
    `exec redis-server ${file} --sentinel`,
  ].join('\n');
}
