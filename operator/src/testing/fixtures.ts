// Shared fixtures for unit tests (not part of the build).
import { resolveSpec, type ResolvedSpec } from '../api/defaults.js';
import type { NexusRuntime, NexusRuntimeSpec } from '../api/types.js';
import type { RuntimePlan } from '../builders/plan.js';

export const IMAGE = 'localhost/nexus/workspace-kernel:test';

export function runtime(spec: NexusRuntimeSpec = {}, name = 'demo', namespace = 'team-a'): NexusRuntime {
  return {
    apiVersion: 'nexus.dev/v1alpha1',
    kind: 'NexusRuntime',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec,
  };
}

export function spec(overrides: NexusRuntimeSpec = {}): ResolvedSpec {
  return resolveSpec(overrides, IMAGE);
}

export function plan(overrides: NexusRuntimeSpec = {}, maxInstances = 25, name = 'demo'): RuntimePlan {
  return { name, namespace: 'team-a', uid: `uid-${name}`, spec: spec(overrides), maxInstances };
}
