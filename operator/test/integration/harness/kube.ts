// Clients for the test run's cluster: @kubernetes/client-node for reads and writes, the cluster's
// own kubectl for what a user would type (apply, explain, get -o yaml).
import { spawnSync } from 'node:child_process';

import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

import type { HarnessState } from './cluster.js';

export const GROUP = 'nexus.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'nexusruntimes';
export const KIND = 'NexusRuntime';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

/** The parts of a NexusRuntime the tests look at; everything else passes through untyped. */
export interface NexusRuntime {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; uid?: string };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    replicas?: number;
    readyReplicas?: number;
    configHash?: string;
    memoryBudget?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

export class Cluster {
  readonly config = new KubeConfig();
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly policy: PolicyV1Api;
  readonly networking: NetworkingV1Api;
  readonly coordination: CoordinationV1Api;
  readonly custom: CustomObjectsApi;

  constructor(readonly state: HarnessState) {
    this.config.loadFromFile(state.kubeconfig);
    this.core = this.config.makeApiClient(CoreV1Api);
    this.apps = this.config.makeApiClient(AppsV1Api);
    this.autoscaling = this.config.makeApiClient(AutoscalingV2Api);
    this.policy = this.config.makeApiClient(PolicyV1Api);
    this.networking = this.config.makeApiClient(NetworkingV1Api);
    this.coordination = this.config.makeApiClient(CoordinationV1Api);
    this.custom = this.config.makeApiClient(CustomObjectsApi);
  }

  /** Runs the cluster's kubectl as the admin; `input` goes to stdin (for `-f -`). */
  kubectl(args: string[], input?: string): KubectlResult {
    const result = spawnSync(this.state.kubectl, ['--kubeconfig', this.state.kubeconfig, ...args], {
      input,
      encoding: 'utf8',
      timeout: 60_000,
      // `get --raw /openapi/v3/...` prints several MB.
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** kubectl that must succeed; returns stdout. */
  kubectlOk(args: string[], input?: string): string {
    const result = this.kubectl(args, input);
    if (result.status !== 0) {
      throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  async createNamespace(name: string): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name, labels: { 'nexus.dev/test': 'true' } } } });
  }

  async deleteNamespace(name: string): Promise<void> {
    await ignoreNotFound(this.core.deleteNamespace({ name }));
  }

  async getRuntime(namespace: string, name: string): Promise<NexusRuntime> {
    return (await this.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
    })) as NexusRuntime;
  }

  async createRuntime(namespace: string, name: string, spec: Record<string, unknown>): Promise<NexusRuntime> {
    return (await this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name, namespace }, spec },
    })) as NexusRuntime;
  }

  /** A JSON merge patch of the spec, as `kubectl patch --type merge` sends it. */
  async patchRuntimeSpec(
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
  ): Promise<NexusRuntime> {
    return (await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { spec } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as NexusRuntime;
  }

  async deleteRuntime(namespace: string, name: string): Promise<void> {
    await ignoreNotFound(
      this.custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      }),
    );
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export async function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function condition(runtime: NexusRuntime, type: string): Condition | undefined {
  return runtime.status?.conditions?.find((c) => c.type === type);
}

/** Ready=True for the current generation: what `kubectl wait --for=condition=Ready` waits for, and more. */
export function isReadyAtGeneration(runtime: NexusRuntime): boolean {
  return (
    condition(runtime, 'Ready')?.status === 'True' &&
    runtime.status?.observedGeneration === runtime.metadata.generation
  );
}

export function describeStatus(runtime: NexusRuntime | undefined): string {
  if (!runtime) return 'absent';
  const conditions = (runtime.status?.conditions ?? [])
    .map((c) => `${c.type}=${c.status}(${c.reason ?? ''}: ${c.message ?? ''})`)
    .join(', ');
  return `generation ${String(runtime.metadata.generation)}, observed ${String(runtime.status?.observedGeneration)}, ${conditions || 'no conditions'}`;
}
