// Node disk (ephemeral storage) each container may use, in one table: what the kubelet charges to a
// pod — container logs, its disk-backed emptyDirs (the pod-level limit is the sum of the containers'
// limits, so each container's limit carries its pod's volumes) and the writable layer, which the
// read-only root filesystem keeps empty. A pod over its limit is evicted, so every term is a bound
// that something else already enforces: a volume's sizeLimit, the kubelet's log rotation.
import type { ResolvedSpec } from '../api/defaults.js';
import { ceilMiB, parseQuantity } from '../api/quantity.js';

export const EPHEMERAL = {
  /**
   * Container logs: the kubelet rotates at containerLogMaxSize (10Mi) and keeps containerLogMaxFiles
   * (5) files, i.e. at most 50Mi; rounded up.
   */
  logsMiB: 64,
  /** The kernel's /tmp emptyDir (its sizeLimit). */
  kernelTmpMiB: 64,
  /** The store's /tmp emptyDir (its sizeLimit). */
  storeTmpMiB: 16,
  /**
   * A store without persistence keeps its append-only file on an emptyDir: Redis rewrites the file
   * when it doubles (auto-aof-rewrite-percentage 100), and a rewrite writes the new base beside the
   * old one, so the directory holds up to three times the data, which maxmemory bounds.
   */
  aofPerMaxmemory: 3,
  /** A Sentinel's own directory (its rewritten configuration: a few KiB), an emptyDir's sizeLimit. */
  sentinelDirMiB: 1,
} as const;

// Request and limit are set equal by the builders: the scheduler reserves what the kubelet would
// evict at.
export const mi = (n: number) => `${n}Mi`;

/** The kernel container: logs, /tmp, and the cache when it lives on disk. */
export function kernelEphemeralStorage(spec: ResolvedSpec): string {
  const cacheMiB = spec.cache.medium === 'Disk' ? ceilMiB(parseQuantity(spec.cache.sizeLimit) ?? 0) : 0;
  return mi(EPHEMERAL.logsMiB + EPHEMERAL.kernelTmpMiB + cacheMiB);
}

/** The store's data emptyDir when nothing persists: the append-only file's bound. */
export function storeDataMiB(spec: ResolvedSpec): number {
  const maxmemoryMiB = ceilMiB(parseQuantity(spec.store.managed.maxmemory) ?? 0);
  return Math.max(EPHEMERAL.aofPerMaxmemory * maxmemoryMiB, EPHEMERAL.storeTmpMiB);
}

/** The Redis container: logs, /tmp, and its data when that is an emptyDir rather than a claim. */
export function storeEphemeralStorage(spec: ResolvedSpec, persistent: boolean): string {
  return mi(EPHEMERAL.logsMiB + EPHEMERAL.storeTmpMiB + (persistent ? 0 : storeDataMiB(spec)));
}

/** The Sentinel container of a replicated store: logs and its directory. */
export function sentinelEphemeralStorage(): string {
  return mi(EPHEMERAL.logsMiB + EPHEMERAL.sentinelDirMiB);
}
