// Ready / Progressing / Degraded from what the Deployment reports and what this pass decided;
// StoreReady comes decided (store-readiness.ts) and Ready requires it.
import type { V1Deployment } from '@kubernetes/client-node';
import { ConditionStatus, ConditionType, Reason, type ConditionDecision } from '../api/conditions.js';
import type { PolicyResult } from './result.js';

export interface ReadinessInput {
  suspend: boolean;
  /** The kernel Deployment as last seen (after this pass's apply), if it exists. */
  deployment?: V1Deployment;
  /** Why this pass refused to roll out (budget, invalid spec, apply error). */
  failure?: PolicyResult;
  /** Something wrong that does not stop the rollout. */
  warning?: PolicyResult;
  /** The StoreReady condition of this pass. */
  store: ConditionDecision;
}

export interface RolloutFigures {
  desired: number;
  current: number;
  updated: number;
  ready: number;
  available: number;
  observed: boolean;
  stalled: boolean;
}

export function rolloutFigures(deployment: V1Deployment): RolloutFigures {
  const status = deployment.status ?? {};
  const generation = deployment.metadata?.generation ?? 0;
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  return {
    desired: deployment.spec?.replicas ?? 1,
    current: status.replicas ?? 0,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
    observed: (status.observedGeneration ?? 0) >= generation,
    stalled: progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded',
  };
}

function decision(
  type: ConditionType,
  status: ConditionStatus,
  reason: Reason,
  message: string,
): ConditionDecision {
  return { type, status, reason, message };
}

export function decideConditions(input: ReadinessInput): ConditionDecision[] {
  const { deployment, failure, warning, suspend, store } = input;
  const figures = deployment ? rolloutFigures(deployment) : undefined;
  return [
    readyCondition(suspend, figures, store),
    progressingCondition(suspend, figures, failure),
    degradedCondition(figures, failure, warning),
    store,
  ];
}

function readyCondition(
  suspend: boolean,
  f: RolloutFigures | undefined,
  store: ConditionDecision,
): ConditionDecision {
  const { Ready } = ConditionType;
  if (suspend) {
    return decision(
      Ready,
      ConditionStatus.False,
      Reason.Suspended,
      'spec.suspend is true: the kernel Deployment is scaled to zero',
    );
  }
  if (!f)
    return decision(
      Ready,
      ConditionStatus.False,
      Reason.Unavailable,
      'the kernel Deployment does not exist yet',
    );
  if (f.observed && f.desired > 0 && f.available >= f.desired && f.updated >= f.desired) {
    if (store.status !== ConditionStatus.True) {
      return decision(
        Ready,
        ConditionStatus.False,
        Reason.StoreNotReady,
        `${f.available}/${f.desired} kernel pods available, but the store is not ready: ${store.message}`,
      );
    }
    return decision(
      Ready,
      ConditionStatus.True,
      Reason.Available,
      `${f.available}/${f.desired} kernel pods available`,
    );
  }
  return decision(
    Ready,
    ConditionStatus.False,
    Reason.Unavailable,
    `${f.available}/${f.desired} kernel pods available, ${f.updated} up to date`,
  );
}

function progressingCondition(
  suspend: boolean,
  f: RolloutFigures | undefined,
  failure: PolicyResult | undefined,
): ConditionDecision {
  const { Progressing } = ConditionType;
  if (!f) {
    return failure
      ? decision(
          Progressing,
          ConditionStatus.False,
          failure.reason,
          'nothing is rolled out until the spec is fixed',
        )
      : decision(Progressing, ConditionStatus.True, Reason.RollingOut, 'creating the kernel Deployment');
  }
  const rolling = !f.observed || f.updated < f.desired || f.current > f.updated || f.available < f.desired;
  if (rolling) {
    return decision(
      Progressing,
      ConditionStatus.True,
      Reason.RollingOut,
      `${f.updated}/${f.desired} kernel pods updated, ${f.available} available`,
    );
  }
  if (suspend && f.current === 0) {
    return decision(
      Progressing,
      ConditionStatus.False,
      Reason.ScaledToZero,
      'no kernel pods run while suspended',
    );
  }
  return decision(
    Progressing,
    ConditionStatus.False,
    Reason.RolloutComplete,
    `${f.updated} kernel pods up to date`,
  );
}

function degradedCondition(
  f: RolloutFigures | undefined,
  failure: PolicyResult | undefined,
  warning: PolicyResult | undefined,
): ConditionDecision {
  const { Degraded } = ConditionType;
  if (failure) {
    const kept = f ? '; the last good configuration keeps running' : '';
    return decision(Degraded, ConditionStatus.True, failure.reason, failure.message + kept);
  }
  if (f?.stalled) {
    return decision(
      Degraded,
      ConditionStatus.True,
      Reason.RolloutStalled,
      'the kernel rollout exceeded its progress deadline: check the pods for image or probe failures',
    );
  }
  if (warning) return decision(Degraded, ConditionStatus.True, warning.reason, warning.message);
  return decision(
    Degraded,
    ConditionStatus.False,
    Reason.AsExpected,
    'the runtime is configured as specified',
  );
}
