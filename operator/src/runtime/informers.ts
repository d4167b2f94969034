// List+watch caches that restart themselves. client-node's ListWatch re-lists after "resource
// version too old" and re-watches after a clean close, but after any other error (the API server
// went away, a list failed) it simply stops: this wrapper starts it again with backoff.
import {
  KubernetesObjectApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { ResourceKind } from '../api/children.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelay } from './queue.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface WatchedKind extends ResourceKind {
  labelSelector?: string;
}

function watchPath(kind: WatchedKind, namespace: string): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${kind.resource}` : `${base}/${kind.resource}`;
}

/** A client-node list+watch informer for one kind; `onListed` runs after every successful list. */
export function listWatch<T extends KubernetesObject>(
  kc: KubeConfig,
  kind: WatchedKind,
  namespace: string,
  onListed: () => void,
): Source<T> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const list = async () => {
    const result = await objects.list<T>(
      kind.apiVersion,
      kind.kind,
      namespace || undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      kind.labelSelector,
    );
    result.items.forEach(stripForCache);
    onListed();
    return result;
  };
  return makeInformer<T>(kc, watchPath(kind, namespace), list, kind.labelSelector);
}

export type Source<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface RestartBackoff {
  baseMs: number;
  maxMs: number;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: Source<T>;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;

  constructor(
    makeSource: (onListed: () => void) => Source<T>,
    readonly kind: string,
    private readonly onEvent: (event: InformerEvent, object: T) => void,
    private readonly log: Logger,
    private readonly onRestart: () => void = () => {},
    private readonly backoff: RestartBackoff = { baseMs: 500, maxMs: 10_000 },
  ) {
    this.informer = makeSource(() => {
      this.synced = true;
      this.failures = 0;
    });
    for (const event of ['add', 'update', 'delete'] as const) {
      this.informer.on(event, (object: T) => {
        this.failures = 0;
        stripForCache(object); // the cache holds this very object
        this.onEvent(event, object);
      });
    }
    this.informer.on('error', (err: unknown) => this.scheduleRestart(err));
  }

  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.informer.start();
    } catch (err) {
      this.scheduleRestart(err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  /** True once a first list has completed. */
  get hasSynced(): boolean {
    return this.synced;
  }

  get(name: string, namespace: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  private scheduleRestart(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.backoff.baseMs, this.backoff.maxMs);
    this.log.warn(
      { kind: this.kind, err: describeError(err), retryInMs: delay },
      'watch stopped; restarting informer',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.onRestart();
      void this.start();
    }, delay);
  }
}

/**
 * Drop what the operator never reads before an object sits in a cache: managedFields are often
 * the larger half of an object (controller-runtime's TransformStripManagedFields does the same).
 */
export function stripForCache(object: KubernetesObject): void {
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
}
