// Condition types and reasons of a NexusRuntime, and the small helpers that keep a condition
// list well-formed (one entry per type, lastTransitionTime moving only when the status moves).

export const ConditionType = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  StoreReady: 'StoreReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export const Reason = {
  // Ready
  Available: 'Available',
  Unavailable: 'Unavailable',
  Suspended: 'Suspended',
  StoreNotReady: 'StoreNotReady',
  // Progressing
  RollingOut: 'RollingOut',
  RolloutComplete: 'RolloutComplete',
  ScaledToZero: 'ScaledToZero',
  // Degraded
  AsExpected: 'AsExpected',
  MemoryBudgetExceeded: 'MemoryBudgetExceeded',
  InvalidSpec: 'InvalidSpec',
  ApplyFailed: 'ApplyFailed',
  RolloutStalled: 'RolloutStalled',
  ScaleOutBelowOverhead: 'ScaleOutBelowOverhead',
  StoreSecretMissing: 'StoreSecretMissing',
  StoreURLInvalid: 'StoreURLInvalid',
  StoreSecretConflict: 'StoreSecretConflict',
  StoreMemoryBudgetExceeded: 'StoreMemoryBudgetExceeded',
  StorePanelsExceedMemory: 'StorePanelsExceedMemory',
  StorePersistenceImmutable: 'StorePersistenceImmutable',
  StoreServiceImmutable: 'StoreServiceImmutable',
  // Degraded, from the pods (policies/pods.ts); also the reasons of the Events naming each pod
  PodUnschedulable: 'PodUnschedulable',
  ImagePullFailed: 'ImagePullFailed',
  CrashLooping: 'CrashLooping',
  ContainerConfigError: 'ContainerConfigError',
  // StoreReady
  StoreAvailable: 'StoreAvailable',
  StoreStarting: 'StoreStarting',
  StoreUnavailable: 'StoreUnavailable',
  StoreReplicasOutOfSync: 'StoreReplicasOutOfSync',
  ExternalStoreConfigured: 'ExternalStoreConfigured',
  EmbeddedStore: 'EmbeddedStore',
  VolumePending: 'VolumePending',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** A condition as a policy decides it, before time and generation are stamped on. */
export interface ConditionDecision {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
}

/**
 * Merge decided conditions into the previous list. lastTransitionTime is kept when the status did
 * not change, so re-running a pass that decides the same thing produces an identical list.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  decided: readonly ConditionDecision[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  const byType = new Map((previous ?? []).map((c) => [c.type, c]));
  return decided.map((d) => {
    const before = byType.get(d.type);
    const lastTransitionTime =
      before && before.status === d.status ? before.lastTransitionTime : rfc3339Seconds(now);
    const condition: Condition = { ...d, lastTransitionTime };
    if (generation !== undefined) condition.observedGeneration = generation;
    return condition;
  });
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** metav1.Time has second precision; writing more would make every comparison differ. */
export function rfc3339Seconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
