import type { ResolvedSpec } from '../api/defaults.js';

/**
 * Everything the builders need, decided before any of them runs: the runtime's identity, its
 * resolved spec and the pool size the memory budget settled on. Builders are pure functions of it.
 */
export interface RuntimePlan {
  name: string;
  namespace: string;
  uid: string;
  spec: ResolvedSpec;
  maxInstances: number;
}

export const PORTS = { http: 3000, ws: 3001 } as const;
export const CACHE_DIR = '/var/cache/nexus';
/** Kernel processes run as this non-root user; the image's `nexus` user has the same id. */
export const KERNEL_UID = 10001;

export const childNames = (runtimeName: string) =>
  ({
    configMap: `${runtimeName}-config`,
    deployment: runtimeName,
    service: runtimeName,
    hpa: runtimeName,
    pdb: runtimeName,
  }) as const;
