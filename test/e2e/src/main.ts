// The end-to-end suite: the user's flow on real pods (docs/local-cluster.md). Run by
// test/e2e/run.sh against a cluster it started; E2E_STEPS picks steps by name (default: all).
// Usage: node test/e2e/dist/main.js RUN_DIR/cluster.env REPOSITORY_ROOT
import { Kubectl, readClusterEnv } from './cluster.js';
import { startHttpTarget } from './http-target.js';
import { CheckFailed, step } from './report.js';
import { closeForwards, type Suite } from './suite.js';
import { autoscale } from './steps/autoscale.js';
import { failover } from './steps/failover.js';
import { install } from './steps/install.js';
import { memoryLimits } from './steps/memory.js';
import { remove } from './steps/remove.js';
import { replicas } from './steps/replicas.js';
import { rollout } from './steps/rollout.js';
import { serve } from './steps/serve.js';

const STEPS: Record<string, (suite: Suite) => Promise<void>> = {
  install,
  serve,
  rollout,
  replicas,
  memory: memoryLimits,
  autoscale,
  remove,
  failover,
};

async function main(): Promise<void> {
  const [clusterEnvFile, root] = process.argv.slice(2);
  if (!clusterEnvFile || !root) throw new Error('usage: main.js RUN_DIR/cluster.env REPOSITORY_ROOT');
  const names = (process.env.E2E_STEPS ?? Object.keys(STEPS).join(',')).split(',').filter(Boolean);
  const unknown = names.filter((name) => !(name in STEPS));
  if (unknown.length > 0)
    throw new Error(`unknown E2E_STEPS ${unknown.join(', ')}; known: ${Object.keys(STEPS).join(', ')}`);

  const env = readClusterEnv(clusterEnvFile);
  const suite: Suite = {
    kubectl: new Kubectl(env),
    root,
    target: await startHttpTarget(env.hostIp),
    panels: new Map(),
    forwards: [],
  };
  const started = Date.now();
  try {
    for (const name of names) {
      await STEPS[name]!(suite);
      closeForwards(suite);
    }
  } finally {
    closeForwards(suite);
    await suite.target.close();
  }
  step(`passed: ${names.join(', ')} in ${Math.round((Date.now() - started) / 1000)}s`);
}

// exitCode, not exit(): output to a pipe is written asynchronously and exit() would cut it short.
// A WebSocket a failed step left open must not keep the process alive, hence the unref'd timer.
main()
  .catch((error: unknown) => {
    const message =
      error instanceof CheckFailed
        ? `FAIL: ${error.message}`
        : error instanceof Error
          ? error.stack
          : String(error);
    console.error(`\ne2e ${message}`);
    process.exitCode = 1;
  })
  .finally(() => setTimeout(() => process.exit(), 2000).unref());
