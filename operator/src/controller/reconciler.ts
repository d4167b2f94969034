// The reconcile pass for one NexusRuntime, keyed by namespace/name:
// fetch → gather → decide (budgets, store) → build → apply what differs → write status once.
import { Component, childName, type Children } from '../api/children.js';
import { ConditionType, Reason, findCondition, mergeConditions } from '../api/conditions.js';
import { resolveSpec, type DefaultImages, type ResolvedSpec } from '../api/defaults.js';
import { splitKey } from '../api/keys.js';
import { APP_NAME, LABEL } from '../api/labels.js';
import type { MemoryBudgetStatus, NexusRuntime, NexusRuntimeStatus, StoreStatus } from '../api/types.js';
import { KERNEL_ROWS, buildDesiredState, keepAsObserved } from '../builders/desired.js';
import { canonicalJson } from '../builders/hash.js';
import type { RuntimePlan } from '../builders/plan.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { evaluateBudget, type KernelFootprint } from '../policies/budget.js';
import { kernelRefusal } from '../policies/kernel-values.js';
import { newProblems, podProblems, problemKey } from '../policies/pods.js';
import { decideConditions } from '../policies/readiness.js';
import type { PolicyResult } from '../policies/result.js';
import { evaluateStoreBudget } from '../policies/store-budget.js';
import { decideStoreReady, describeRoles } from '../policies/store-readiness.js';
import type { StoreRoles } from '../policies/store-roles.js';
import { externalStoreRefusal, managedStoreRefusal, panelsPhase } from '../policies/store.js';
import { ChangeLog, syncChildren } from './apply.js';
import {
  EventType,
  type ClusterCache,
  type ClusterWriter,
  type EventRecorder,
  type SecretReader,
} from './client.js';
import { EventReason } from './events.js';
import { gatherChildren } from './gather.js';
import { recordTransitions } from './notices.js';
import { buildStatus, runningImage, sameStatus } from './status.js';
import { sentinelAddresses, sentinelEndpoint } from '../builders/store/replication.js';
import { StoreResolver } from './store.js';
import {
  STORE_ROLES_RECHECK_MS,
  SentinelRoleReader,
  type RoleReader,
  type RoleTarget,
} from './store-roles.js';

export interface ReconcilerDeps {
  cache: ClusterCache;
  writer: ClusterWriter;
  secrets: SecretReader;
  events: EventRecorder;
  log: Logger;
  images: DefaultImages;
  /** The idle kernel's measured memory figures (api/defaults.ts). */
  footprint: KernelFootprint;
  now?: () => Date;
  /** The managed store's password generator (tests pass a fixed one). */
  password?: () => string;
  /** Where a replicated store's roles are read (its Sentinels, unless a test answers). */
  roles?: RoleReader;
}

export interface ReconcileOutcome {
  /** Reconcile again after this long even if nothing changes (an external store's Secret is awaited). */
  requeueAfterMs?: number;
}

/** What one pass decided and did, for the status and the events. */
interface PassResult {
  now: Children;
  configHash?: string;
  failure?: PolicyResult;
  warnings: PolicyResult[];
  storeFailure?: PolicyResult;
  store: StoreStatus;
  memoryBudget?: MemoryBudgetStatus;
  applyError?: Error;
  requeueAfterMs?: number;
  /** A replicated store: what its Sentinels said, or why they were not asked or did not answer. */
  roles?: StoreRoles | string;
}

/** Asked of the Sentinels only once a store pod is ready: before, nothing could answer. */
const NOT_ASKED = 'the Sentinels are asked once a store pod is ready';

export class Reconciler {
  private readonly now: () => Date;
  private readonly store: StoreResolver;
  private readonly roles: RoleReader;
  /**
   * Statuses written that the cache has not shown yet, by key: the runtime's uid, the status the cache held
   * when we wrote, and what we wrote. A pass that still finds the old status in the cache uses ours,
   * so that it neither writes it again nor records its transitions twice. An entry goes as soon as
   * the cache shows anything else.
   */
  private readonly unseen = new Map<string, { uid: string; before: string; after: NexusRuntimeStatus }>();
  /**
   * The pod problems already announced by an Event, by key (`pod/reason`): each gets one Event when
   * it appears, not one per pass. After a restart of the operator each is announced once more.
   */
  private readonly reported = new Map<string, { uid: string; problems: Set<string> }>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.store = new StoreResolver(deps.writer, deps.secrets, deps.password);
    this.roles = deps.roles ?? new SentinelRoleReader();
  }

  async reconcile(key: string): Promise<ReconcileOutcome> {
    const { namespace, name } = splitKey(key);
    const runtime = this.deps.cache.runtime(namespace, name);
    // Gone or going: the owner references let the garbage collector remove the children.
    if (!runtime?.metadata.uid || runtime.metadata.deletionTimestamp) {
      this.unseen.delete(key);
      this.reported.delete(key);
      return {};
    }
    const uid = runtime.metadata.uid;
    const cached = canonicalJson(runtime.status ?? {});
    const written = this.unseen.get(key);
    const stale = written?.uid === uid && written.before === cached;
    if (written && !stale) this.unseen.delete(key);
    const current: NexusRuntime = stale ? { ...runtime, status: written.after } : runtime;
    const log = this.deps.log.child({ runtime: key });
    const spec = resolveSpec(runtime.spec, this.deps.images);
    const observed = gatherChildren(this.deps.cache, namespace, name);
    const changes = new ChangeLog();

    const pass = await this.pass(current, spec, observed, changes, log);

    const previous = current.status?.conditions;
    const store = decideStoreReady({
      mode: spec.store.mode,
      statefulSet: pass.now.storeStatefulSet,
      volume: pass.now.panelsVolume,
      endpoint: pass.store.endpoint,
      failure: pass.storeFailure,
      previous: findCondition(previous, ConditionType.StoreReady),
      ...(pass.roles === undefined
        ? {}
        : { roles: pass.roles, ackReplicas: spec.store.managed.durability.ackReplicas }),
    });
    const pods = this.deps.cache.pods(namespace, name);
    const problems = podProblems(pods);
    const decided = decideConditions({
      suspend: spec.suspend,
      deployment: pass.now.deployment,
      failure: pass.failure,
      warning: pass.warnings[0],
      store,
      kernelPods: pods.filter((p) => p.metadata?.labels?.[LABEL.name] === APP_NAME[Component.Kernel]),
      problems,
    });
    const generation = runtime.metadata.generation;
    const status = buildStatus({
      name,
      namespace,
      generation,
      conditions: mergeConditions(previous, decided, generation, this.now()),
      deployment: pass.now.deployment,
      configHash: pass.configHash,
      memoryBudget: pass.memoryBudget,
      image: runningImage(pass.now.deployment) ?? (pass.failure ? undefined : spec.image),
      store: pass.store,
    });
    // One event per kind of change and pass, not one per object: 500 runtimes stay 500 events.
    for (const [reason, message] of changes.summaries())
      this.deps.events.record(runtime, 'Normal', reason, message);
    recordTransitions(this.deps.events, current, spec, decided);
    const reported = this.reported.get(key);
    const before = reported?.uid === uid ? reported.problems : new Set<string>();
    for (const problem of newProblems(before, problems)) {
      this.deps.events.record(runtime, EventType.Warning, problem.reason, problem.message);
      log.warn({ pod: problem.pod, reason: problem.reason }, problem.message);
    }
    this.reported.set(key, { uid, problems: new Set(problems.map(problemKey)) });
    if (!sameStatus(current.status, status)) {
      await this.deps.writer.applyStatus(name, namespace, status);
      this.unseen.set(key, { uid, before: cached, after: status });
      log.debug('status written');
    }
    if (pass.applyError) throw pass.applyError;
    return pass.requeueAfterMs !== undefined ? { requeueAfterMs: pass.requeueAfterMs } : {};
  }

  private async pass(
    runtime: NexusRuntime,
    spec: ResolvedSpec,
    observed: Children,
    changes: ChangeLog,
    log: Logger,
  ): Promise<PassResult> {
    const { name = '', namespace = '', uid = '' } = runtime.metadata;
    const budget = evaluateBudget(spec, this.deps.footprint);
    const storeBudget = evaluateStoreBudget(spec);
    const result: PassResult = {
      now: observed,
      configHash: runtime.status?.configHash,
      warnings: [],
      store:
        runtime.status?.store?.mode === spec.store.mode ? runtime.status.store : { mode: spec.store.mode },
    };
    if (budget.budget) result.memoryBudget = { ...budget.budget };
    if (result.memoryBudget && storeBudget.budget) result.memoryBudget.store = storeBudget.budget;
    if (!budget.ok || !storeBudget.ok) {
      result.failure = !budget.ok ? budget.failure : storeBudget.ok ? undefined : storeBudget.failure;
      if (budget.ok && !storeBudget.ok) result.storeFailure = storeBudget.failure;
      log.info({ reason: result.failure?.reason }, result.failure?.message);
      return result;
    }
    const refusal = kernelRefusal(spec) ?? managedStoreRefusal(spec) ?? externalStoreRefusal(spec);
    if (refusal) {
      result.failure = refusal;
      log.info({ reason: refusal.reason }, refusal.message);
      return result;
    }
    if (budget.warning) result.warnings.push(budget.warning);
    if (storeBudget.warning) result.warnings.push(storeBudget.warning);

    try {
      const store = await this.store.resolve({ name, namespace, uid, spec, observed });
      result.store = store.status;
      if (!store.ok) {
        result.failure = result.storeFailure = store.failure;
        if (store.requeueAfterMs !== undefined) result.requeueAfterMs = store.requeueAfterMs;
        log.info({ reason: store.failure.reason }, store.failure.message);
        return result;
      }
      if (store.warning) result.warnings.push(store.warning);
      if (store.createdSecret) changes.add(EventReason.StoreCreated, store.createdSecret);

      const volumeName = childName('panelsVolume', name);
      const panels = panelsPhase(spec, observed.panelsVolume, observed.deployment, volumeName);
      const plan: RuntimePlan = {
        name,
        namespace,
        uid,
        spec,
        maxInstances: budget.maxInstances,
        maxPanels: storeBudget.maxPanels,
        store: store.plan,
        panels,
      };
      const desired = buildDesiredState(plan);
      let objects = desired.objects;
      let held = false;
      if (panels === 'importing') {
        objects = keepAsObserved(objects, observed, ['panelsVolume']);
        // The import runs once, when the kernel starts: it must find the store up.
        const storeNow = decideStoreReady({ mode: spec.store.mode, statefulSet: observed.storeStatefulSet });
        if (storeNow.status !== 'True') {
          objects = keepAsObserved(objects, observed, KERNEL_ROWS);
          held = true;
        }
      }
      const removalNotes =
        panels === 'imported' ? { panelsVolume: 'its panels have been imported into the shared store' } : {};
      result.now = await syncChildren(
        {
          writer: this.deps.writer,
          namespace,
          reconciledBefore: runtime.status?.observedGeneration !== undefined,
          log,
          removalNotes,
        },
        objects,
        observed,
        changes,
      );
      if (panels === 'imported' && observed.panelsVolume && !result.now.panelsVolume) {
        changes.add(
          EventReason.PanelsImported,
          `the panels of PersistentVolumeClaim ${volumeName} are in the shared store`,
        );
      }
      if (!held) result.configHash = desired.configHash;
      if (store.plan.mode === 'Managed' && spec.store.managed.replicas > 1) {
        await this.readRoles(result, {
          sentinels: [sentinelEndpoint(name, namespace), ...sentinelAddresses(plan)],
          password: store.plan.credentials.password,
        });
      }
    } catch (err) {
      result.applyError = err instanceof Error ? err : new Error(describeError(err));
      result.failure = {
        reason: Reason.ApplyFailed,
        message: `applying the kernel objects failed: ${describeError(err)}`,
      };
    }
    return result;
  }

  /** A replicated store's roles into the pass' status, and a recheck: a failover changes no object of ours. */
  private async readRoles(result: PassResult, target: RoleTarget): Promise<void> {
    const ready = (result.now.storeStatefulSet?.status?.readyReplicas ?? 0) >= 1;
    const roles = ready ? await this.roles.read(target) : NOT_ASKED;
    result.roles = roles;
    const store: StoreStatus = { ...result.store, replication: ready ? describeRoles(roles) : NOT_ASKED };
    delete store.primary;
    delete store.replicasInSync;
    if (typeof roles !== 'string') {
      store.primary = roles.primary;
      store.replicasInSync = roles.replicasInSync;
    }
    result.store = store;
    result.requeueAfterMs = Math.min(result.requeueAfterMs ?? Infinity, STORE_ROLES_RECHECK_MS);
  }
}
