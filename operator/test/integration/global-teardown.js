// Jest global teardown: stops the suite's control plane by PID and removes its run directory,
// unless NEXUS_IT_KEEP=1 asks to keep logs and data for a post-mortem.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { stopStorageControllers } from './storage-setup.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export default function globalTeardown() {
  const runDir = process.env.NEXUS_IT_RUN_DIR;
  if (!runDir) return;
  const keep = process.env.NEXUS_IT_KEEP === '1';
  stopStorageControllers(runDir);
  const args = keep ? [runDir] : ['--purge', runDir];
  spawnSync(join(REPO_ROOT, 'hack/cluster-down.sh'), args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (keep) console.log(`==> kept ${runDir} (NEXUS_IT_KEEP=1)`);
}
