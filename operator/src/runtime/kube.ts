// The production implementations of the reconciler's and the elector's interfaces, on
// @kubernetes/client-node. Every request is counted in nexus_operator_api_requests_total, with
// the status code it ended with.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Lease,
  type V1Secret,
} from '@kubernetes/client-node';
import { API_VERSION, FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION } from '../api/group.js';
import type { NexusRuntime, NexusRuntimeStatus } from '../api/types.js';
import type {
  ClusterWriter,
  EventRecorder,
  EventType,
  ObjectRef,
  SecretReader,
} from '../controller/client.js';
import type { Logger } from '../log.js';
import { describeError, statusCode } from '../errors.js';
import type { LeaseStore } from './leader.js';
import type { LeaseRecord } from './lease.js';
import type { OperatorMetrics } from './metrics.js';

export class KubeClusterWriter implements ClusterWriter {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    private readonly metrics: OperatorMetrics,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async apply<T extends KubernetesObject>(object: T): Promise<T> {
    return this.metrics.countRequest('apply', object.kind ?? '', () =>
      this.objects.patch<T>(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
    );
  }

  async create<T extends KubernetesObject>(object: T): Promise<T | undefined> {
    try {
      return await this.metrics.countRequest('create', object.kind ?? '', () =>
        this.objects.create<T>(object, undefined, undefined, FIELD_MANAGER),
      );
    } catch (err) {
      if (statusCode(err) === 409) return undefined;
      throw err;
    }
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.metrics.countRequest('delete', ref.kind, () =>
        this.objects.delete(
          {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            metadata: { name: ref.name, namespace: ref.namespace },
          },
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
        ),
      );
      return true;
    } catch (err) {
      if (statusCode(err) === 404) return false;
      throw err;
    }
  }

  async applyStatus(name: string, namespace: string, status: NexusRuntimeStatus): Promise<void> {
    await this.metrics.countRequest('apply-status', KIND, () =>
      this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name,
          body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, status },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
  }
}

/** core/v1 Events on the NexusRuntime, which is where `kubectl describe nxr` looks. */
/** Reads Secrets one at a time, by name: the operator never lists or caches the Secrets of others. */
export class KubeSecretReader implements SecretReader {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly metrics: OperatorMetrics,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.metrics.countRequest('get', 'Secret', () =>
        this.core.readNamespacedSecret({ name, namespace }),
      );
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }
}

export class KubeEventRecorder implements EventRecorder {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly identity: string,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  record(runtime: NexusRuntime, type: EventType, reason: string, message: string): void {
    const { name = '', namespace = '', uid, resourceVersion } = runtime.metadata;
    const now = new Date();
    this.metrics
      .countRequest('create', 'Event', () =>
        this.core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: `${name}.`, namespace },
            involvedObject: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid, resourceVersion },
            type,
            reason,
            message: message.slice(0, 1024),
            source: { component: FIELD_MANAGER },
            reportingComponent: FIELD_MANAGER,
            reportingInstance: this.identity,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      )
      .catch((err: unknown) => {
        this.log.warn(
          { runtime: `${namespace}/${name}`, reason, err: describeError(err) },
          'could not record event',
        );
      });
  }
}

export class KubeLeaseStore implements LeaseStore {
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
    private readonly metrics: OperatorMetrics,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  async read(): Promise<V1Lease | undefined> {
    try {
      return await this.metrics.countRequest('get', 'Lease', () =>
        this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }),
      );
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  async create(record: LeaseRecord): Promise<boolean> {
    try {
      await this.metrics.countRequest('create', 'Lease', () =>
        this.api.createNamespacedLease({ namespace: this.namespace, body: this.body(record) }),
      );
      return true;
    } catch (err) {
      if (statusCode(err) === 409) return false;
      throw err;
    }
  }

  async replace(resourceVersion: string, record: LeaseRecord): Promise<boolean> {
    try {
      await this.metrics.countRequest('update', 'Lease', () =>
        this.api.replaceNamespacedLease({
          name: this.name,
          namespace: this.namespace,
          body: this.body(record, resourceVersion),
        }),
      );
      return true;
    } catch (err) {
      if (statusCode(err) === 409) return false;
      throw err;
    }
  }

  private body(record: LeaseRecord, resourceVersion?: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      // Times are MicroTime strings (see lease.ts); the serializer passes strings through untouched.
      spec: record as V1Lease['spec'],
    };
  }
}
