/** Reasons of the Events the operator records on a NexusRuntime. */
export const EventReason = {
  Created: 'Created',
  Updated: 'Updated',
  RollingOut: 'RollingOut',
  Restored: 'Restored',
  Deleted: 'Deleted',
  MemoryBudgetExceeded: 'MemoryBudgetExceeded',
  InvalidSpec: 'InvalidSpec',
  ScaleOutBelowOverhead: 'ScaleOutBelowOverhead',
  ApplyFailed: 'ApplyFailed',
  Recovered: 'Recovered',
  StoreCreated: 'StoreCreated',
  StoreLost: 'StoreLost',
  StoreRecovered: 'StoreRecovered',
  StoreModeChanged: 'StoreModeChanged',
  PanelsImported: 'PanelsImported',
  ReplicasIgnored: 'ReplicasIgnored',
  // One per pod and problem, when it appears (policies/pods.ts)
  PodUnschedulable: 'PodUnschedulable',
  ImagePullFailed: 'ImagePullFailed',
  CrashLooping: 'CrashLooping',
  ContainerConfigError: 'ContainerConfigError',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];
