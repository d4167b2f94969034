// A Reconciler wired to an in-memory cluster, for the reconciler's tests.
import { pino } from 'pino';
import type { NexusRuntimeSpec } from '../api/types.js';
import { findCondition } from '../api/conditions.js';
import { Reconciler } from '../controller/reconciler.js';
import type { RoleReader } from '../controller/store-roles.js';
import { FakeCluster } from './fake-cluster.js';
import { IMAGES, PASSWORD, runtime } from './fixtures.js';

export const NS = 'team-a';
export const KEY = `${NS}/demo`;

export function setup(spec: NexusRuntimeSpec = {}, roles?: RoleReader) {
  const cluster = new FakeCluster();
  cluster.putRuntime(runtime(spec));
  let passwords = 0;
  const reconciler = new Reconciler({
    cache: cluster,
    writer: cluster,
    secrets: cluster,
    events: cluster,
    log: pino({ level: 'silent' }),
    images: IMAGES,
    footprint: { overheadMB: 96, idleWorkingSetMB: 60 },
    now: () => new Date('2026-01-01T00:00:00Z'),
    password: () => (passwords++ === 0 ? PASSWORD : `${PASSWORD}-${passwords}`),
    ...(roles ? { roles } : {}),
  });
  /** Two passes with the controllers catching up in between: the store starts, the pods roll out. */
  const settle = async () => {
    await reconciler.reconcile(KEY);
    cluster.startStore(NS, 'demo');
    cluster.bindVolume(NS, 'demo-panels');
    cluster.rollOut(NS, 'demo');
    await reconciler.reconcile(KEY);
  };
  const condition = (type: 'Ready' | 'Progressing' | 'Degraded' | 'StoreReady') =>
    findCondition(cluster.getRuntime(NS, 'demo').status?.conditions, type);
  const clear = () => {
    cluster.writes.length = 0;
    cluster.events.length = 0;
  };
  return { cluster, reconciler, settle, condition, clear };
}
