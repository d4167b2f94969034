// The StoreReady condition: a managed store's pod is ready, an external store's Secret is usable
// (the operator never connects to it), an embedded store's volume is bound.
import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import {
  ConditionStatus,
  ConditionType,
  Reason,
  type Condition,
  type ConditionDecision,
} from '../api/conditions.js';
import type { StoreMode } from '../api/types.js';
import type { PolicyResult } from './result.js';
import type { StoreRoles } from './store-roles.js';

export interface StoreReadinessInput {
  mode: StoreMode;
  /** Managed: the store StatefulSet as last seen. */
  statefulSet?: V1StatefulSet;
  /** Embedded: the panels volume as last seen. */
  volume?: V1PersistentVolumeClaim;
  /** host:port of a shared store. */
  endpoint?: string;
  /** Why the store cannot be used (a missing Secret, a bad URL, a store budget that does not fit). */
  failure?: PolicyResult;
  /** StoreReady as the previous pass left it. */
  previous?: Condition;
  /**
   * A replicated store: what the Sentinels said of it, or why they did not answer (then the pods'
   * readiness, which a replica passes only in sync, is all there is to go by).
   */
  roles?: StoreRoles | string;
  /** A replicated store: replicas a commit waits for (store.managed.durability.ackReplicas). */
  ackReplicas?: number;
}

/** What the Sentinels said, for the status: "primary demo-store-0, 2 of 2 replicas in sync". */
export function describeRoles(roles: StoreRoles | string): string {
  if (typeof roles === 'string') return `the Sentinels did not answer the operator: ${roles}`;
  const primary = `primary ${roles.primary}${roles.primaryDown ? ' (down)' : ''}`;
  return `${primary}, ${roles.replicasInSync} of ${roles.replicas} replicas in sync`;
}

const decide = (status: ConditionStatus, reason: Reason, message: string): ConditionDecision => ({
  type: ConditionType.StoreReady,
  status,
  reason,
  message,
});

/** The store pod is ready at the current revision. */
function statefulSetReady(s: V1StatefulSet): boolean {
  const status = s.status;
  return (
    (status?.observedGeneration ?? 0) >= (s.metadata?.generation ?? 0) &&
    (status?.readyReplicas ?? 0) >= 1 &&
    (status?.updateRevision === undefined || status.currentRevision === status.updateRevision)
  );
}

function rolling(s: V1StatefulSet): boolean {
  const status = s.status;
  return (
    (status?.observedGeneration ?? 0) < (s.metadata?.generation ?? 0) ||
    (status?.updateRevision !== undefined && status.currentRevision !== status.updateRevision)
  );
}

export function decideStoreReady(input: StoreReadinessInput): ConditionDecision {
  const { mode, failure, previous } = input;
  if (failure) return decide(ConditionStatus.False, failure.reason, failure.message);
  if (mode === 'External') {
    return decide(
      ConditionStatus.True,
      Reason.ExternalStoreConfigured,
      `the kernels use the external store at ${input.endpoint ?? '?'} (its Secret is usable; the operator does not connect to it)`,
    );
  }
  if (mode === 'Embedded') {
    const claim = input.volume?.metadata?.name ?? 'the panels volume';
    if (input.volume?.status?.phase !== 'Bound') {
      return decide(
        ConditionStatus.False,
        Reason.VolumePending,
        `PersistentVolumeClaim ${claim} is not bound yet`,
      );
    }
    return decide(
      ConditionStatus.True,
      Reason.EmbeddedStore,
      `panels live on PersistentVolumeClaim ${claim}, served by one kernel: spec.replicas and spec.autoscaling are ignored`,
    );
  }
  const s = input.statefulSet;
  const name = s?.metadata?.name ?? 'the store';
  if (s && statefulSetReady(s)) {
    const serves = `StatefulSet ${name} serves ${input.endpoint ?? ''}`.trim();
    const { roles, ackReplicas = 0 } = input;
    if (roles === undefined) return decide(ConditionStatus.True, Reason.StoreAvailable, serves);
    if (typeof roles !== 'string' && roles.primaryDown) {
      return decide(
        ConditionStatus.False,
        Reason.StoreUnavailable,
        `the Sentinels consider primary ${roles.primary} down: a replica is promoted once a majority agrees`,
      );
    }
    if (typeof roles !== 'string' && roles.replicasInSync < ackReplicas) {
      return decide(
        ConditionStatus.False,
        Reason.StoreReplicasOutOfSync,
        `${describeRoles(roles)}, and a commit waits for ${ackReplicas}: the primary refuses writes until enough catch up`,
      );
    }
    return decide(ConditionStatus.True, Reason.StoreAvailable, `${serves}: ${describeRoles(roles)}`);
  }
  // Lost: it was ready (or already lost) and is not restarting on purpose.
  const wasUp = previous?.status === ConditionStatus.True || previous?.reason === Reason.StoreUnavailable;
  if (s && wasUp && !rolling(s)) {
    return decide(ConditionStatus.False, Reason.StoreUnavailable, `StatefulSet ${name} has no ready pod`);
  }
  return decide(
    ConditionStatus.False,
    Reason.StoreStarting,
    s && rolling(s)
      ? `StatefulSet ${name} is rolling out its pod`
      : `StatefulSet ${name} is starting its pod`,
  );
}
