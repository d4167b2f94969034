// Events recorded on transitions only, so that a state that persists does not flood the event
// stream: a Degraded reason that appears or clears, a store lost or back, a change of store mode,
// replicas that an embedded store ignores.
import {
  ConditionStatus,
  ConditionType,
  Reason,
  findCondition,
  type ConditionDecision,
} from '../api/conditions.js';
import { childName } from '../api/children.js';
import type { ResolvedSpec } from '../api/defaults.js';
import type { NexusRuntime } from '../api/types.js';
import { PodProblemReason } from '../policies/pods.js';
import { modeChangeNotice } from '../policies/store.js';
import { EventType, type EventRecorder } from './client.js';
import { EventReason } from './events.js';

const POD_REASONS: ReadonlySet<string> = new Set(Object.values(PodProblemReason));

export function recordTransitions(
  events: EventRecorder,
  runtime: NexusRuntime,
  spec: ResolvedSpec,
  decided: readonly ConditionDecision[],
): void {
  const record = (type: EventType, reason: string, message: string) =>
    events.record(runtime, type, reason, message);
  const before = (type: ConditionType) => findCondition(runtime.status?.conditions, type);
  const now = (type: ConditionType) => decided.find((c) => c.type === type);

  const degraded = now(ConditionType.Degraded);
  const wasDegraded = before(ConditionType.Degraded);
  if (degraded?.status === ConditionStatus.True) {
    // A pod's problem has an Event of its own, naming the pod (the reconciler records one per pod).
    const fromPods = POD_REASONS.has(degraded.reason);
    if (
      !fromPods &&
      (wasDegraded?.status !== ConditionStatus.True || wasDegraded.reason !== degraded.reason)
    ) {
      record(EventType.Warning, degraded.reason, degraded.message);
    }
  } else if (degraded && wasDegraded?.status === ConditionStatus.True) {
    record(
      EventType.Normal,
      EventReason.Recovered,
      `recovered from ${wasDegraded.reason}: ${degraded.message}`,
    );
  }

  const store = now(ConditionType.StoreReady);
  const storeBefore = before(ConditionType.StoreReady);
  if (store?.reason === Reason.StoreUnavailable && storeBefore?.status === ConditionStatus.True) {
    record(EventType.Warning, EventReason.StoreLost, store.message);
  } else if (store?.status === ConditionStatus.True && storeBefore?.reason === Reason.StoreUnavailable) {
    record(EventType.Normal, EventReason.StoreRecovered, store.message);
  }

  const previousMode = runtime.status?.store?.mode;
  if (previousMode) {
    const notice = modeChangeNotice(previousMode, spec, {
      volume: childName('panelsVolume', runtime.metadata.name ?? ''),
      store: childName('storeStatefulSet', runtime.metadata.name ?? ''),
    });
    if (notice) {
      record(
        notice.warning ? EventType.Warning : EventType.Normal,
        EventReason.StoreModeChanged,
        notice.message,
      );
    }
  }

  const newGeneration = runtime.metadata.generation !== runtime.status?.observedGeneration;
  if (spec.store.mode === 'Embedded' && spec.replicas > 1 && newGeneration) {
    record(
      EventType.Warning,
      EventReason.ReplicasIgnored,
      `spec.replicas is ${spec.replicas} but an embedded store is served by one kernel: use store.mode Managed or External to run more`,
    );
  }
}
