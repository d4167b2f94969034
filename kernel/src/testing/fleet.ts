// Several kernels sharing one panel store, for the consistency suites: in-process kernels on one
// Redis (standalone, Cluster, or a primary with replicas behind Sentinels), or one kernel on the
// embedded store (which is what a single
// process has). Kernels are addressed round-robin, so "A, B, C" is the same kernel when there
// is one.

import { startTestKernel, type TestKernel } from './kernel-harness.js';
import {
  type SentinelOptions,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
  type TestRedis,
  type TestRedisSentinel,
} from './redis-server.js';

/** 'redis-sentinel' is not among STORES_UNDER_TEST: its suites (failovers) are its own. */
export type StoreUnderTest = 'embedded' | 'redis' | 'redis-cluster' | 'redis-sentinel';

export const STORES_UNDER_TEST: readonly StoreUnderTest[] = ['embedded', 'redis', 'redis-cluster'];

export interface Fleet {
  readonly store: StoreUnderTest;
  readonly kernels: readonly TestKernel[];
  readonly redis?: TestRedis;
  /** Kernel `i` modulo the fleet size. */
  at(i: number): TestKernel;
  /** Another kernel with the same store (for restarts and late joiners). */
  add(env?: Record<string, string>): Promise<TestKernel>;
  stop(): Promise<void>;
}

let prefixes = 0;

export async function startFleet(
  store: StoreUnderTest,
  env: Record<string, string> = {},
  size = 3,
  sentinel: SentinelOptions = {},
): Promise<Fleet> {
  const redis: TestRedis | undefined =
    store === 'redis'
      ? await startRedis()
      : store === 'redis-cluster'
        ? await startRedisCluster()
        : store === 'redis-sentinel'
          ? await startRedisSentinel(sentinel)
          : undefined;
  // Each fleet its own keys, so suites could share a server.
  prefixes += 1;
  const storeEnv: Record<string, string> =
    redis === undefined
      ? {}
      : {
          STORE_URL: redis.url,
          STORE_TOPOLOGY: redis.topology,
          STORE_KEY_PREFIX: `t${process.pid}-${prefixes}:`,
          ...(redis.topology === 'sentinel'
            ? {
                STORE_SENTINELS: (redis as TestRedisSentinel).sentinels,
                STORE_SENTINEL_MASTER: (redis as TestRedisSentinel).masterName,
              }
            : {}),
        };
  const kernels: TestKernel[] = [];
  const start = (extra: Record<string, string> = {}) => startTestKernel({ ...storeEnv, ...env, ...extra });
  kernels.push(await start());
  if (redis !== undefined) for (let i = 1; i < size; i += 1) kernels.push(await start());
  return {
    store,
    kernels,
    ...(redis === undefined ? {} : { redis }),
    at: (i) => kernels[i % kernels.length]!,
    async add(extra = {}) {
      const kernel = await start(extra);
      kernels.push(kernel);
      return kernel;
    },
    async stop() {
      await Promise.all(kernels.map((kernel) => kernel.stop().catch(() => {})));
      await redis?.stop();
    },
  };
}
