// Jest global teardown: stops the suite's control plane by PID and removes its run directory,
// unless NEXUS_IT_KEEP=1 asks to keep logs and data for a post-mortem.
import { stopCluster } from './harness/cluster.js';

export default function globalTeardown(): void {
  const runDir = process.env.NEXUS_IT_RUN_DIR;
  if (!runDir) return;
  const keep = process.env.NEXUS_IT_KEEP === '1';
  stopCluster(runDir, !keep);
  if (keep) console.log(`==> kept ${runDir} (NEXUS_IT_KEEP=1)`);
}
