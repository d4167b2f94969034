// The reconcile pass for one NexusRuntime, keyed by namespace/name:
// fetch → gather → decide (budget) → build → apply what differs → write status once.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import {
  ConditionStatus,
  ConditionType,
  Reason,
  findCondition,
  mergeConditions,
  type ConditionDecision,
} from '../api/conditions.js';
import { resolveSpec } from '../api/defaults.js';
import { CONFIG_HASH_ANNOTATION } from '../api/group.js';
import type { NexusRuntime } from '../api/types.js';
import { buildDesiredState, type DesiredState } from '../builders/desired.js';
import type { RuntimePlan } from '../builders/plan.js';
import type { Logger } from '../log.js';
import { evaluateBudget } from '../policies/budget.js';
import { decideConditions } from '../policies/readiness.js';
import type { PolicyResult } from '../policies/result.js';
import { describeError } from '../runtime/informers.js';
import {
  EventType,
  type ClusterCache,
  type ClusterWriter,
  type EventRecorder,
  type ObjectRef,
} from './client.js';
import { applyReason, comparable, firstDifference } from './drift.js';
import { EventReason } from './events.js';
import { gatherChildren, type ObservedChildren } from './gather.js';
import { buildStatus, runningImage, sameStatus } from './status.js';

export interface ReconcilerDeps {
  cache: ClusterCache;
  writer: ClusterWriter;
  events: EventRecorder;
  log: Logger;
  defaultImage: string;
  overheadMB: number;
  now?: () => Date;
}

export interface ReconcileOutcome {
  requeueAfterMs?: number;
}

export function runtimeKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class Reconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<ReconcileOutcome> {
    const { namespace, name } = splitKey(key);
    const runtime = this.deps.cache.runtime(namespace, name);
    // Gone or going: the owner references let the garbage collector remove the children.
    if (!runtime?.metadata.uid || runtime.metadata.deletionTimestamp) return {};
    const log = this.deps.log.child({ runtime: key });

    const spec = resolveSpec(runtime.spec, this.deps.defaultImage);
    const budget = evaluateBudget(spec, this.deps.overheadMB);
    const children = gatherChildren(this.deps.cache, namespace, name);

    let deployment = children.deployment;
    let configHash = runtime.status?.configHash;
    let failure: PolicyResult | undefined;
    let warning: PolicyResult | undefined;
    let applyError: Error | undefined;
    if (!budget.ok) {
      failure = budget.failure;
      log.info({ reason: failure.reason }, failure.message);
    } else {
      warning = budget.warning;
      const plan: RuntimePlan = {
        name,
        namespace,
        uid: runtime.metadata.uid,
        spec,
        maxInstances: budget.maxInstances,
      };
      const desired = buildDesiredState(plan);
      try {
        deployment = await this.sync(runtime, desired, children, log);
        configHash = desired.configHash;
      } catch (err) {
        applyError = err instanceof Error ? err : new Error(describeError(err));
        failure = {
          reason: Reason.ApplyFailed,
          message: `applying the kernel objects failed: ${describeError(err)}`,
        };
      }
    }

    const decided = decideConditions({ suspend: spec.suspend, deployment, failure, warning });
    const generation = runtime.metadata.generation;
    const status = buildStatus({
      name,
      namespace,
      generation,
      conditions: mergeConditions(runtime.status?.conditions, decided, generation, this.now()),
      deployment,
      configHash,
      memoryBudget: budget.budget,
      image: runningImage(deployment) ?? (budget.ok ? spec.image : undefined),
    });
    this.recordDegradedTransition(runtime, decided);
    if (!sameStatus(runtime.status, status)) {
      await this.deps.writer.applyStatus(name, namespace, status);
      log.debug('status written');
    }
    if (applyError) throw applyError;
    return {};
  }

  /** Apply every child that differs from what we want; returns the Deployment as it now stands. */
  private async sync(
    runtime: NexusRuntime,
    desired: DesiredState,
    children: ObservedChildren,
    log: Logger,
  ): Promise<V1Deployment | undefined> {
    const changes = new ChangeLog();
    const { name, namespace } = nameOf(desired.deployment);
    const hpaRef = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name, namespace };
    const pdbRef = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name, namespace };
    try {
      // The writes are independent: they go out together, one round trip per pass. (A pod that
      // starts before its ConfigMap exists waits for it; it does not fail.)
      const [, , deployment] = await Promise.all([
        this.ensure(runtime, desired.configMap, children.configMap, changes, log),
        this.ensure(runtime, desired.service, children.service, changes, log),
        this.ensure(runtime, desired.deployment, children.deployment, changes, log),
        desired.hpa
          ? this.ensure(runtime, desired.hpa, children.hpa, changes, log, false)
          : children.hpa &&
            this.remove(hpaRef, 'autoscaling is off or the runtime is suspended', changes, log),
        desired.pdb
          ? this.ensure(runtime, desired.pdb, children.pdb, changes, log, false)
          : children.pdb && this.remove(pdbRef, 'at most one replica can run', changes, log),
      ]);
      return deployment;
    } finally {
      // One event per kind of change and pass, not one per object: 500 runtimes stay 500 events.
      for (const [reason, message] of changes.summaries())
        this.event(runtime, EventType.Normal, reason, message);
    }
  }

  private async ensure<T extends KubernetesObject>(
    runtime: NexusRuntime,
    desired: T,
    live: T | undefined,
    changes: ChangeLog,
    log: Logger,
    alwaysWanted = true,
  ): Promise<T | undefined> {
    const reason = applyReason(desired, live);
    if (reason === 'none') return live;
    const applied = await this.deps.writer.apply(desired);
    const what = `${desired.kind} ${desired.metadata?.name}`;
    const field = reason === 'repair' ? firstDifference(comparable(desired), live) : undefined;
    log.info({ kind: desired.kind, name: desired.metadata?.name, action: reason, field }, 'applied');
    if (reason === 'create') {
      // A child that always exists, missing after an earlier pass, was deleted by someone.
      const restoring = alwaysWanted && runtime.status?.observedGeneration !== undefined;
      if (restoring) changes.add(EventReason.Restored, `${what} was missing and has been recreated`);
      else changes.add(EventReason.Created, what);
    } else if (reason === 'repair') {
      changes.add(EventReason.Restored, `${what} was changed outside the operator and has been restored`);
    } else {
      const before = podConfigHash(live);
      const after = podConfigHash(desired);
      if (before && after && before !== after) {
        changes.add(
          EventReason.RollingOut,
          `kernel configuration changed (${before} → ${after}): rolling the pods`,
        );
      } else {
        changes.add(EventReason.Updated, what);
      }
    }
    return applied;
  }

  private async remove(ref: ObjectRef, why: string, changes: ChangeLog, log: Logger): Promise<void> {
    const { kind, name } = ref;
    if (await this.deps.writer.delete(ref)) {
      log.info({ kind, name }, 'deleted');
      changes.add(EventReason.Deleted, `${kind} ${name} (${why})`);
    }
  }

  /** Events only on transitions, so a spec that stays wrong does not flood the event stream. */
  private recordDegradedTransition(runtime: NexusRuntime, decided: ConditionDecision[]): void {
    const before = findCondition(runtime.status?.conditions, ConditionType.Degraded);
    const now = decided.find((c) => c.type === ConditionType.Degraded);
    if (!now) return;
    if (now.status === ConditionStatus.True) {
      if (before?.status !== ConditionStatus.True || before.reason !== now.reason) {
        this.event(runtime, EventType.Warning, now.reason, now.message);
      }
    } else if (before?.status === ConditionStatus.True) {
      this.event(
        runtime,
        EventType.Normal,
        EventReason.Recovered,
        `recovered from ${before.reason}: ${now.message}`,
      );
    }
  }

  private event(runtime: NexusRuntime, type: EventType, reason: string, message: string): void {
    this.deps.events.record(runtime, type, reason, message);
  }
}

function podConfigHash(object: KubernetesObject | undefined): string | undefined {
  const deployment: V1Deployment | undefined = object;
  if (deployment?.kind !== undefined && deployment.kind !== 'Deployment') return undefined;
  return deployment?.spec?.template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

function nameOf(object: KubernetesObject): { name: string; namespace: string } {
  return { name: object.metadata?.name ?? '', namespace: object.metadata?.namespace ?? '' };
}

/** What one pass changed, grouped into one event message per reason. */
class ChangeLog {
  private readonly entries = new Map<EventReason, string[]>();

  add(reason: EventReason, text: string): void {
    const list = this.entries.get(reason) ?? [];
    list.push(text);
    this.entries.set(reason, list);
  }

  summaries(): [EventReason, string][] {
    return [...this.entries].map(([reason, texts]) => {
      switch (reason) {
        case EventReason.Created:
          return [reason, `created ${texts.join(', ')}`];
        case EventReason.Updated:
          return [reason, `updated ${texts.join(', ')}`];
        case EventReason.Deleted:
          return [reason, `deleted ${texts.join(', ')}`];
        default:
          return [reason, texts.join('; ')];
      }
    });
  }
}
