// Ready / Progressing / Degraded from what the Deployment and the pods report and what this pass
// decided; StoreReady comes decided (store-readiness.ts) and Ready requires it.
//
// Ready is True only when the current template is rolled out: the Deployment controller has seen
// it, every desired pod runs it and is available, no pod of an older template is left, and no
// ready pod carries an older configuration hash. A rollout is Ready=False / Progressing=True from
// its first pass to its last, so `kubectl wait --for=condition=Ready` after a change waits for it.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { CONFIG_HASH_ANNOTATION } from '../api/group.js';
import { ConditionStatus, ConditionType, Reason, type ConditionDecision } from '../api/conditions.js';
import { summarizeProblems, type PodProblem } from './pods.js';
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
  /** The kernel pods as the cache holds them (none known: the Deployment's counters decide alone). */
  kernelPods?: readonly V1Pod[];
  /** What the kernel and store pods say is wrong with them (pods.ts). */
  problems?: readonly PodProblem[];
}

export interface RolloutFigures {
  desired: number;
  current: number;
  updated: number;
  ready: number;
  available: number;
  observed: boolean;
  stalled: boolean;
  /** Ready kernel pods whose configuration hash is not the template's. */
  stale: number;
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Ready, non-terminating pods that run another configuration than the template's. */
export function staleReadyPods(deployment: V1Deployment, pods: readonly V1Pod[]): number {
  const hash = deployment.spec?.template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
  if (!hash) return 0;
  return pods.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      isReady(p) &&
      p.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] !== hash,
  ).length;
}

export function rolloutFigures(deployment: V1Deployment, pods: readonly V1Pod[] = []): RolloutFigures {
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
    stale: staleReadyPods(deployment, pods),
  };
}

/** Whether the current template is not yet fully rolled out (and available). */
export function rollingOut(f: RolloutFigures): boolean {
  return !f.observed || f.updated < f.desired || f.current > f.updated || f.stale > 0;
}

/** Where a rollout stands, in one phrase. */
function rolloutText(f: RolloutFigures): string {
  if (!f.observed) return 'the Deployment controller has not yet picked up the latest kernel Deployment';
  const old = f.current - f.updated + f.stale;
  return (
    `${f.updated}/${f.desired} kernel pods updated, ${f.available} available` +
    (old > 0 ? `, ${old} of the previous configuration still running` : '')
  );
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
  const figures = deployment ? rolloutFigures(deployment, input.kernelPods) : undefined;
  const blocked = summarizeProblems(input.problems ?? []);
  return [
    readyCondition(suspend, figures, store, blocked),
    progressingCondition(suspend, figures, failure, blocked),
    degradedCondition(figures, failure, warning, input.problems ?? []),
    store,
  ];
}

function readyCondition(
  suspend: boolean,
  f: RolloutFigures | undefined,
  store: ConditionDecision,
  blocked: string | undefined,
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
  const why = blocked ? `: ${blocked}` : '';
  if (rollingOut(f)) {
    return decision(Ready, ConditionStatus.False, Reason.RollingOut, `rolling out: ${rolloutText(f)}${why}`);
  }
  if (f.desired > 0 && f.available >= f.desired) {
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
    `${f.available}/${f.desired} kernel pods available, ${f.updated} up to date${why}`,
  );
}

function progressingCondition(
  suspend: boolean,
  f: RolloutFigures | undefined,
  failure: PolicyResult | undefined,
  blocked: string | undefined,
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
  if (rollingOut(f) || f.available < f.desired) {
    return decision(
      Progressing,
      ConditionStatus.True,
      Reason.RollingOut,
      rolloutText(f) + (blocked ? `; blocked: ${blocked}` : ''),
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
  problems: readonly PodProblem[],
): ConditionDecision {
  const { Degraded } = ConditionType;
  if (failure) {
    const kept = f ? '; the last good configuration keeps running' : '';
    return decision(Degraded, ConditionStatus.True, failure.reason, failure.message + kept);
  }
  const blocked = summarizeProblems(problems);
  if (f?.stalled) {
    return decision(
      Degraded,
      ConditionStatus.True,
      Reason.RolloutStalled,
      'the kernel rollout exceeded its progress deadline: ' +
        (blocked ?? 'check the pods for image or probe failures'),
    );
  }
  if (problems[0] && blocked) return decision(Degraded, ConditionStatus.True, problems[0].reason, blocked);
  if (warning) return decision(Degraded, ConditionStatus.True, warning.reason, warning.message);
  return decision(
    Degraded,
    ConditionStatus.False,
    Reason.AsExpected,
    'the runtime is configured as specified',
  );
}
